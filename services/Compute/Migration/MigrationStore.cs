using Dapper;
using Npgsql;
using Platform.Compute.Placement;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using static Platform.Compute.Workloads.WorkloadRows;

namespace Platform.Compute.Migration;

/// <summary>
/// <c>compute.migrations</c>, under the workload's row lock like every other change: begun with room held on the
/// target, advanced by the source agent's reports, handed over (the workload moves to the target), completed by the
/// target's report of it running, or ended — failed or aborted — with the workload back on its source.
/// </summary>
public sealed class MigrationStore(NpgsqlDataSource db, NodePlacement placement)
{
    const string Columns = """
        migration_id, workload_id, operation_id, source_node_id, target_node_id, type, compression_level, bandwidth_limit, phase,
        bytes_total, bytes_sent, bytes_saved, rounds, stopped_at, downtime_ms, error, requested_by, created_at, updated_at, finished_at
        """;

    public async Task<(WorkloadRecord Workload, OperationRecord Operation, MigrationRecord Migration)?> BeginAsync(
        Guid workloadId, Guid? targetNodeId, string type, int compressionLevel, long bandwidthLimit, string requestedBy, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(transaction, workloadId, cancellationToken);
        if (current is null) return null;
        if (!WorkloadTransitions.Allows(WorkloadTransitions.Migrate, current.VmState, current.TaskState))
            throw new WorkloadConflictException(current, WorkloadTransitions.Migrate.Name);
        if (targetNodeId is { } named && named == current.NodeId)
            throw new InvalidFieldException("target_node_id", $"Workload {workloadId} already runs on node {named}; name another node as the target.");

        // The target is chosen and its room held like a new workload's placement: the node row stays locked until commit.
        var target = await placement.ChooseAndLockAsync(transaction, current.Needs(on: targetNodeId), exclude: current.NodeId, cancellationToken);
        var operation = await InsertOperationAsync(transaction, workloadId, WorkloadTransitions.Migrate.Name, requestedBy, now, cancellationToken);
        var migration = await connection.QuerySingleAsync<MigrationRecord>(transaction.In($"""
            INSERT INTO compute.migrations (migration_id, workload_id, operation_id, source_node_id, target_node_id, type, compression_level,
                bandwidth_limit, phase, requested_by, created_at, updated_at)
            VALUES (@migrationId, @workloadId, @operationId, @source, @target, @type, @compressionLevel, @bandwidthLimit, @phase, @requestedBy, @now, @now)
            RETURNING {Columns}
            """, new
        {
            migrationId = Guid.NewGuid(), workloadId, operation.OperationId, source = current.NodeId, target, type, compressionLevel, bandwidthLimit,
            phase = MigrationPhases.Pending, requestedBy, now,
        }, cancellationToken));
        await connection.ExecuteAsync(transaction.In("""
            UPDATE compute.workloads SET task_state = @migrating, message = '', generation = generation + 1, updated_at = @now WHERE workload_id = @workloadId
            """, new { workloadId, migrating = TaskStates.Migrating, now }, cancellationToken));
        var workload = await ReloadAsync(transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation, migration);
    }

    /// <summary>
    /// The source agent's report. Progress updates the record; <c>handover</c> moves the workload to the target (which
    /// then starts it from the folder it received); <c>failed</c> ends the migration with the workload on its source.
    /// A migration already ended (aborted, failed) or handed over is left as it is: the answer's phase tells the agent.
    /// Progress only moves forward: a late report (progress is sent while the next step runs) changes nothing back.
    /// </summary>
    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished, bool Changed)?> ReportAsync(
        Guid nodeId, Guid migrationId, MigrationReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockWithWorkloadAsync(transaction, migrationId, cancellationToken) is not ({ } workload, { } migration)) return null;
        if (migration.SourceNodeId != nodeId)
            throw new MigrationConflictException($"Node {nodeId} is not the source of migration {migrationId}.");
        if (!migration.Active || migration.HandedOver || report.Phase == MigrationReportPhases.Started) return (migration, workload, null, false);

        OperationRecord? finished = null;
        if (report.Phase == MigrationReportPhases.Failed)
            (migration, finished) = await EndAsync(transaction, migration, MigrationPhases.Failed, report.Error == "" ? "the source agent gave up" : report.Error, now, cancellationToken);
        else
        {
            migration = await connection.QuerySingleAsync<MigrationRecord>(transaction.In($"""
                UPDATE compute.migrations SET phase = CASE WHEN phase = @finalCopy AND @phase = @precopy THEN phase ELSE @phase END,
                    bytes_total = greatest(bytes_total, @BytesTotal), bytes_sent = greatest(bytes_sent, @BytesSent),
                    bytes_saved = greatest(bytes_saved, @BytesSaved), rounds = greatest(rounds, @Rounds),
                    stopped_at = coalesce(@stoppedAt, stopped_at), updated_at = @now
                WHERE migration_id = @migrationId RETURNING {Columns}
                """, new
            {
                migrationId, phase = MigrationReportPhases.Stored(report.Phase), finalCopy = MigrationPhases.FinalCopy, precopy = MigrationPhases.Precopy,
                report.BytesTotal, report.BytesSent, report.BytesSaved, report.Rounds,
                stoppedAt = report.StoppedAtMs == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds(report.StoppedAtMs), now,
            }, cancellationToken));
            if (migration.HandedOver)
                await connection.ExecuteAsync(transaction.In("""
                    UPDATE compute.workloads SET node_id = @target, generation = generation + 1, power_state = @noState, pid = NULL,
                        exit_code = NULL, message = 'starting on the migration target', updated_at = @now
                    WHERE workload_id = @workloadId
                    """, new { target = migration.TargetNodeId, noState = PowerStates.NoState, now, migration.WorkloadId }, cancellationToken));
        }
        workload = await ReloadAsync(transaction, migration.WorkloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (migration, workload, finished, true);
    }

    /// <summary>Aborts a migration that has not handed over: the workload stays on (or starts again on) its source.</summary>
    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished)?> AbortAsync(
        Guid migrationId, string requestedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockWithWorkloadAsync(transaction, migrationId, cancellationToken) is not (_, { } migration)) return null;
        if (!migration.Active)
            throw new MigrationConflictException($"Migration {migrationId} has already ended: it {(migration.Phase == MigrationPhases.Completed ? "completed" : $"was {migration.Phase}")}.");
        if (migration.HandedOver)
            throw new MigrationConflictException($"Migration {migrationId} has handed the workload over to its target, which is starting it; it can no longer be aborted.");
        var (ended, finished) = await EndAsync(transaction, migration, MigrationPhases.Aborted, $"aborted by {requestedBy}", now, cancellationToken);
        var workload = await ReloadAsync(transaction, migration.WorkloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (ended, workload, finished);
    }

    /// <summary>
    /// The target went Down after the handover, before it reported the workload running: the workload goes back to its
    /// source, which still has its copy. Null when the workload has no such migration.
    /// </summary>
    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished)?> ReturnFromDownTargetAsync(
        Guid workloadId, Guid downNodeId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockAsync(transaction, workloadId, cancellationToken) is null
            || await ActiveAsync(transaction, workloadId, cancellationToken) is not { HandedOver: true } migration
            || migration.TargetNodeId != downNodeId)
            return null;
        var (ended, finished) = await EndAsync(transaction, migration, MigrationPhases.Failed, "its target node went down before it ran the workload", now, cancellationToken);
        var workload = await ReloadAsync(transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (ended, workload, finished);
    }

    /// <summary>
    /// Inside an agent report's transaction (the workload locked): a report from the target after the handover settles
    /// the migration. Running completes it (the downtime runs from the stop on the source to the start here); an exit
    /// rolls it back to the source, which still has its copy. Null when the report settles nothing (a report from the
    /// source, or of the target still starting).
    /// </summary>
    internal static async Task<(OperationRecord? Finished, bool RolledBack)?> SettleAsync(NpgsqlTransaction transaction,
        WorkloadRecord workload, Guid nodeId, WorkloadReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await ActiveAsync(transaction, workload.WorkloadId, cancellationToken) is not { HandedOver: true } migration
            || nodeId != migration.TargetNodeId || report.Absent)
            return null;
        if (report.PowerState == PowerStates.Running)
        {
            var downtime = migration.StoppedAt is { } stopped && report.StartedAtMs > 0
                ? Math.Max(0, report.StartedAtMs - stopped.ToUnixTimeMilliseconds()) : (long?)null;
            await transaction.Connection!.ExecuteAsync(transaction.In("""
                UPDATE compute.migrations SET phase = @completed, downtime_ms = @downtime, finished_at = @now, updated_at = @now WHERE migration_id = @MigrationId
                """, new { migration.MigrationId, completed = MigrationPhases.Completed, downtime, now }, cancellationToken));
            return (await FinishOperationAsync(transaction, workload.WorkloadId, OperationStatuses.Succeeded, "", now, cancellationToken), false);
        }
        if (report.PowerState is not (PowerStates.Crashed or PowerStates.Shutdown)) return null;
        var why = $"it did not start on the target: {(report.Message == "" ? $"exit code {report.ExitCode}" : report.Message)}";
        return ((await EndAsync(transaction, migration, MigrationPhases.Failed, why, now, cancellationToken)).Finished, true);
    }

    /// <summary>Inside an evacuation's transaction: the workload's node went down, so its migration, if any, fails.</summary>
    internal static Task FailActiveAsync(NpgsqlTransaction transaction, Guid workloadId, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(transaction.In("""
            UPDATE compute.migrations SET phase = @failed, error = @reason, finished_at = @now, updated_at = @now
            WHERE workload_id = @workloadId AND finished_at IS NULL
            """, new { workloadId, failed = MigrationPhases.Failed, reason, now }, cancellationToken));

    /// <summary>
    /// Ends a migration short of completion: the record says how, the workload goes back to its source with its task
    /// cleared and a new generation (the source starts it again if it had stopped it), and the operation fails.
    /// </summary>
    static async Task<(MigrationRecord Migration, OperationRecord? Finished)> EndAsync(NpgsqlTransaction transaction,
        MigrationRecord migration, string phase, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var ended = await connection.QuerySingleAsync<MigrationRecord>(transaction.In($"""
            UPDATE compute.migrations SET phase = @phase, error = @error, finished_at = @now, updated_at = @now WHERE migration_id = @MigrationId RETURNING {Columns}
            """, new { migration.MigrationId, phase, error, now }, cancellationToken));
        var message = $"migration {phase}: {error}";
        await connection.ExecuteAsync(transaction.In("""
            UPDATE compute.workloads SET task_state = '', generation = generation + 1, message = @message, updated_at = @now,
                power_state = CASE WHEN node_id = @source THEN power_state ELSE @noState END,
                pid = CASE WHEN node_id = @source THEN pid END, node_id = @source
            WHERE workload_id = @WorkloadId
            """, new { migration.WorkloadId, source = migration.SourceNodeId, message, now, noState = PowerStates.NoState }, cancellationToken));
        return (ended, await FinishOperationAsync(transaction, migration.WorkloadId, OperationStatuses.Failed, message, now, cancellationToken));
    }

    public Task<MigrationRecord?> GetAsync(Guid migrationId, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<MigrationRecord>($"SELECT {Columns} FROM compute.migrations WHERE migration_id = @migrationId", new { migrationId }, cancellationToken);

    /// <summary>The newest 500, newest first.</summary>
    public Task<IReadOnlyList<MigrationRecord>> ListAsync(Guid? workloadId, bool activeOnly, CancellationToken cancellationToken) =>
        db.QueryAsync<MigrationRecord>($"""
            SELECT {Columns} FROM compute.migrations
            WHERE (@workloadId::uuid IS NULL OR workload_id = @workloadId) AND (NOT @activeOnly OR finished_at IS NULL) ORDER BY created_at DESC LIMIT 500
            """, new { workloadId, activeOnly }, cancellationToken);

    /// <summary>
    /// A migration and its workload, both locked — the workload first, as every other change locks it, so a report
    /// or an abort never interleaves with the workload's actions and agent reports.
    /// </summary>
    static async Task<(WorkloadRecord Workload, MigrationRecord Migration)?> LockWithWorkloadAsync(NpgsqlTransaction transaction,
        Guid migrationId, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var workloadId = await connection.QuerySingleOrDefaultAsync<Guid?>(transaction.In(
            "SELECT workload_id FROM compute.migrations WHERE migration_id = @migrationId", new { migrationId }, cancellationToken));
        if (workloadId is not { } id) return null;
        var workload = await ReloadAsync(transaction, id, cancellationToken);
        var migration = await connection.QuerySingleAsync<MigrationRecord>(transaction.In(
            $"SELECT {Columns} FROM compute.migrations WHERE migration_id = @migrationId FOR UPDATE", new { migrationId }, cancellationToken));
        return (workload, migration);
    }

    static Task<MigrationRecord?> ActiveAsync(NpgsqlTransaction transaction, Guid workloadId, CancellationToken cancellationToken) =>
        transaction.Connection!.QuerySingleOrDefaultAsync<MigrationRecord?>(transaction.In(
            $"SELECT {Columns} FROM compute.migrations WHERE workload_id = @workloadId AND finished_at IS NULL FOR UPDATE", new { workloadId }, cancellationToken));
}
