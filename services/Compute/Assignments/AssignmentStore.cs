using Dapper;
using Npgsql;
using Platform.Compute.Migration;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Data;
using static Platform.Compute.Workloads.WorkloadRows;

namespace Platform.Compute.Assignments;

/// <summary>What each node's agent must run (read from <c>compute.workloads</c> and <c>compute.migrations</c>) and what it reports back.</summary>
public sealed class AssignmentStore(NpgsqlDataSource db)
{
    /// <summary>A migration under way, joined to the workload it moves.</summary>
    sealed record MigrationRow(Guid MigrationId, Guid SourceNodeId, Guid TargetNodeId, string Type, int CompressionLevel,
        long BandwidthLimit, string Phase, string? TargetAgentUrl, string? TargetNodeName);

    /// <summary>
    /// What a node's agent must make true: its workloads that are not deleted, with the migration orders of those
    /// migrating from or to it; a workload handed over to its target stays listed on its source as <c>migrated</c>
    /// (kept, stopped) until the target reports it running. One statement, so the agent sees one consistent snapshot,
    /// read with raw Npgsql by column name: every agent pass reads every workload of its node (<see cref="WorkloadReader"/>).
    /// </summary>
    public async Task<IReadOnlyList<Assignment>> AssignmentsAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT w.*, m.migration_id, m.source_node_id, m.target_node_id, m.type, m.compression_level, m.bandwidth_limit, m.phase,
                   t.agent_url AS target_agent_url, t.name AS target_node_name
            FROM (SELECT {Columns} FROM compute.workloads WHERE vm_state <> $2) w
            LEFT JOIN compute.migrations m ON m.workload_id = w.workload_id AND m.finished_at IS NULL
            LEFT JOIN compute.nodes t ON t.node_id = m.target_node_id
            WHERE w.node_id = $1 OR m.source_node_id = $1
            ORDER BY w.created_at
            """);
        command.Parameters.Add(new() { Value = nodeId });
        command.Parameters.Add(new() { Value = VmStates.Deleted });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var workloads = new WorkloadReader(reader);
        int migration = reader.GetOrdinal("migration_id"), source = reader.GetOrdinal("source_node_id"), target = reader.GetOrdinal("target_node_id"),
            type = reader.GetOrdinal("type"), level = reader.GetOrdinal("compression_level"), bandwidth = reader.GetOrdinal("bandwidth_limit"),
            phase = reader.GetOrdinal("phase"), agentUrl = reader.GetOrdinal("target_agent_url"), targetName = reader.GetOrdinal("target_node_name");
        var assignments = new List<Assignment>();
        while (await reader.ReadAsync(cancellationToken))
            assignments.Add(Assign(workloads.Read(), reader.IsDBNull(migration) ? null : new MigrationRow(
                reader.GetGuid(migration), reader.GetGuid(source), reader.GetGuid(target), reader.GetString(type), reader.GetInt32(level),
                reader.GetInt64(bandwidth), reader.GetString(phase), reader.IsDBNull(agentUrl) ? null : reader.GetString(agentUrl),
                reader.IsDBNull(targetName) ? null : reader.GetString(targetName)), nodeId));
        return assignments;
    }

    static Assignment Assign(WorkloadRecord workload, MigrationRow? migration, Guid nodeId)
    {
        var assignment = workload.ToAssignment();
        if (migration is null) return assignment;
        var handedOver = migration.Phase == MigrationPhases.Starting;
        if (migration.SourceNodeId == nodeId)
        {
            assignment.Migration = new MigrationOrder
            {
                MigrationId = migration.MigrationId.ToString(), Role = "source", Type = migration.Type, TargetNodeId = migration.TargetNodeId.ToString(),
                TargetAgentUrl = migration.TargetAgentUrl ?? "", CompressionLevel = migration.CompressionLevel,
                BandwidthLimitBytesPerSecond = migration.BandwidthLimit, TargetNodeName = migration.TargetNodeName ?? "",
            };
            if (handedOver) assignment.DesiredState = DesiredStates.Migrated;
        }
        else if (handedOver) assignment.Migration = new MigrationOrder { MigrationId = migration.MigrationId.ToString(), Role = "target", Type = migration.Type };
        return assignment;
    }

    /// <summary>
    /// Applies an agent's reports, each in its own transaction under the workload's row lock. A report of the generation
    /// the workload is at (or newer) may finish the task in progress or, with no task, settle the workload after a change
    /// the agent saw by itself (it exited). Reports for workloads no longer on this node are ignored. Returns what
    /// changed, with the operation each change finished.
    /// </summary>
    public async Task<IReadOnlyList<(WorkloadRecord Workload, OperationRecord? Finished)>> ApplyReportsAsync(
        Guid nodeId, IEnumerable<WorkloadReport> reports, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var changed = new List<(WorkloadRecord, OperationRecord?)>();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        foreach (var report in reports)
        {
            if (!Guid.TryParse(report.WorkloadId, out var workloadId)) continue;
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (await ApplyAsync(transaction, nodeId, workloadId, report, now, cancellationToken) is not { } applied)
            {
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }
            await transaction.CommitAsync(cancellationToken);
            if (applied.Notify) changed.Add((applied.Workload, applied.Finished));
        }
        return changed;
    }

    /// <summary>What one report changed: <see cref="Notify"/> when a state changed or an operation finished.</summary>
    sealed record Applied(WorkloadRecord Workload, OperationRecord? Finished, bool Notify);

    /// <summary>One report; null when it changes nothing at all (the caller rolls back).</summary>
    static async Task<Applied?> ApplyAsync(NpgsqlTransaction transaction, Guid nodeId, Guid workloadId,
        WorkloadReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = await LockAsync(transaction, workloadId, cancellationToken);
        if (current is null || current.NodeId != nodeId || current.VmState == VmStates.Deleted) return null;

        var (vmState, taskState, desired) = (current.VmState, current.TaskState, current.DesiredState);
        OperationRecord? finished = null;
        // A report of an older generation, or of a workload its agent is about to restart, settles nothing.
        var upToDate = report.Generation >= current.Generation && !report.Restarting;
        if (taskState == TaskStates.Migrating && upToDate
            && await MigrationStore.SettleAsync(transaction, current, nodeId, report, now, cancellationToken) is { } settled)
        {
            // Rolled back to its source: the target's report of its failed start is the migration's, not the workload's.
            if (settled.RolledBack) return new(await ReloadAsync(transaction, workloadId, cancellationToken), settled.Finished, Notify: true);
            (vmState, taskState, finished) = (VmStates.Active, TaskStates.None, settled.Finished);
        }
        else if (upToDate)
        {
            if (taskState != TaskStates.None && WorkloadTransitions.Completes(taskState, report.PowerState, report.Absent) is { } target)
            {
                (vmState, taskState) = (target, TaskStates.None);
                finished = await FinishOperationAsync(transaction, workloadId, OperationStatuses.Succeeded, "", now, cancellationToken);
            }
            else if (WorkloadTransitions.IsStarting(taskState) && report.PowerState is PowerStates.Crashed or PowerStates.Shutdown)
            {
                (vmState, taskState, desired) = (VmStates.Error, TaskStates.None, DesiredStates.Stopped);
                finished = await FinishOperationAsync(transaction, workloadId, OperationStatuses.Failed,
                    report.Message == "" ? $"it exited with code {report.ExitCode}" : report.Message, now, cancellationToken);
            }
            else if (taskState == TaskStates.None)
            {
                vmState = WorkloadTransitions.Settles(vmState, report.PowerState);
                if (vmState is VmStates.Stopped or VmStates.Error) desired = DesiredStates.Stopped;
            }
        }
        var power = report.Absent ? PowerStates.NoState : report.PowerState;
        int? pid = report.Pid == 0 ? null : report.Pid;
        int? exitCode = report.HasExitCode ? report.ExitCode : null;
        if (finished is null && (vmState, taskState, desired, power, pid, exitCode, report.Message, report.Restarts)
            == (current.VmState, current.TaskState, current.DesiredState, current.PowerState, current.Pid, current.ExitCode, current.Message, current.Restarts))
            return null; // nothing new: a resync's report of a steady workload

        await transaction.Connection!.ExecuteAsync(transaction.In("""
            UPDATE compute.workloads SET power_state = @power, pid = @pid, exit_code = @exitCode, started_at = @startedAt, finished_at = @finishedAt,
                message = @Message, restarts = @Restarts, vm_state = @vmState, task_state = @taskState, desired_state = @desired, updated_at = @now,
                generation = generation + CASE WHEN desired_state <> @desired THEN 1 ELSE 0 END,
                deleted_at = CASE WHEN @vmState = @deleted THEN @now ELSE deleted_at END
            WHERE workload_id = @workloadId
            """, new
        {
            workloadId, power, pid, exitCode, startedAt = Time(report.StartedAtMs), finishedAt = Time(report.FinishedAtMs), report.Message, report.Restarts,
            vmState, taskState, desired, now, deleted = VmStates.Deleted,
        }, cancellationToken));
        var after = await ReloadAsync(transaction, workloadId, cancellationToken);
        return new(after, finished,
            after.VmState != current.VmState || after.TaskState != current.TaskState || after.PowerState != current.PowerState || finished is not null);
    }

    static DateTimeOffset? Time(long unixMs) => unixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
}
