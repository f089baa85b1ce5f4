using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>What the agents report, applied under the workload's row lock.</summary>
public sealed partial class WorkloadStore
{
    /// <summary>
    /// Applies an agent's reports. A report of the generation the workload is at (or newer) may finish the task in
    /// progress or, with no task, settle the workload after a change the agent saw by itself (it exited). Reports for
    /// workloads no longer on this node are ignored. Returns what changed, with the operation each change finished.
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
            var current = await LockAsync(connection, transaction, workloadId, cancellationToken);
            if (current is null || current.NodeId != nodeId || current.VmState == "deleted") continue;

            var vmState = current.VmState;
            var taskState = current.TaskState;
            OperationRecord? finished = null;
            var desired = current.DesiredState;
            // A workload its agent is about to restart (restart policy) has not settled anywhere yet.
            if (taskState == "migrating" && report.Generation >= current.Generation && !report.Restarting
                && await SettleMigrationAsync(connection, transaction, current, nodeId, report, now, cancellationToken) is { } settled)
            {
                if (settled.RolledBack)
                {
                    // Back on its source: the target's report of its failed start is the migration's, not the workload's.
                    var back = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
                    await transaction.CommitAsync(cancellationToken);
                    changed.Add((back, settled.Finished));
                    continue;
                }
                (vmState, taskState, finished) = ("active", "", settled.Finished);
            }
            else if (report.Generation >= current.Generation && !report.Restarting)
            {
                if (taskState != "" && WorkloadTransitions.Completes(taskState, report.PowerState, report.Absent) is { } target)
                {
                    (vmState, taskState) = (target, "");
                    finished = await FinishOperationAsync(connection, transaction, workloadId, "succeeded", "", now, cancellationToken);
                }
                else if (taskState is "spawning" or "powering-on" or "rebooting" or "rebooting-hard" or "unpausing" && report.PowerState is "crashed" or "shutdown")
                {
                    (vmState, taskState, desired) = ("error", "", "stopped");
                    finished = await FinishOperationAsync(connection, transaction, workloadId, "failed", report.Message == "" ? $"it exited with code {report.ExitCode}" : report.Message, now, cancellationToken);
                }
                else if (taskState == "")
                {
                    vmState = WorkloadTransitions.Settles(vmState, report.PowerState);
                    if (vmState is "stopped" or "error") desired = "stopped";
                }
            }
            var power = report.Absent ? "nostate" : report.PowerState;
            int? pid = report.Pid == 0 ? null : report.Pid;
            int? exitCode = report.HasExitCode ? report.ExitCode : null;
            if (finished is null && (vmState, taskState, desired, power, pid, exitCode, report.Message, report.Restarts)
                == (current.VmState, current.TaskState, current.DesiredState, current.PowerState, current.Pid, current.ExitCode, current.Message, current.Restarts))
            {
                await transaction.RollbackAsync(cancellationToken); // nothing new: a resync's report of a steady workload
                continue;
            }
            await using (var update = new NpgsqlCommand("""
                UPDATE compute.workloads SET power_state = $2, pid = $3, exit_code = $4, started_at = $5, finished_at = $6, message = $7,
                    restarts = $8, vm_state = $9, task_state = $10, desired_state = $11, updated_at = $12,
                    generation = generation + CASE WHEN desired_state <> $11 THEN 1 ELSE 0 END,
                    deleted_at = CASE WHEN $9 = 'deleted' THEN $12 ELSE deleted_at END
                WHERE workload_id = $1
                """, connection, transaction))
            {
                var p = update.Parameters;
                p.Add(new() { Value = workloadId });
                p.Add(new() { Value = power });
                p.Add(new() { Value = (object?)pid ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
                p.Add(new() { Value = (object?)exitCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
                p.Add(new() { Value = report.StartedAtMs == 0 ? DBNull.Value : DateTimeOffset.FromUnixTimeMilliseconds(report.StartedAtMs), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                p.Add(new() { Value = report.FinishedAtMs == 0 ? DBNull.Value : DateTimeOffset.FromUnixTimeMilliseconds(report.FinishedAtMs), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                p.Add(new() { Value = report.Message });
                p.Add(new() { Value = report.Restarts });
                p.Add(new() { Value = vmState });
                p.Add(new() { Value = taskState });
                p.Add(new() { Value = desired });
                p.Add(new() { Value = now });
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            var after = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
            await transaction.CommitAsync(cancellationToken);
            if (after.VmState != current.VmState || after.TaskState != current.TaskState || after.PowerState != current.PowerState || finished is not null)
                changed.Add((after, finished));
        }
        return changed;
    }
}
