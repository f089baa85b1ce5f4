using Dapper;
using Npgsql;
using Platform.Compute.Migration;
using Platform.Compute.Placement;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Data;
using static Platform.Compute.Workloads.WorkloadRows;

namespace Platform.Compute.Evacuation;

/// <summary>Workloads leaving their node (<c>compute.workloads</c>): placed elsewhere (Down or draining node) or lost.</summary>
public sealed class EvacuationStore(NpgsqlDataSource db, NodePlacement placement)
{
    /// <summary>
    /// Moves a workload to another node (its node is Down, or draining): placed again like a new one, the old node's
    /// copy is dropped from that node's assignments. With no room anywhere it stays where it is as <paramref name="stuckState"/>.
    /// </summary>
    public async Task<(WorkloadRecord Workload, OperationRecord Operation, Guid? From)?> RescheduleAsync(
        Guid workloadId, string reason, string stuckState, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(transaction, workloadId, cancellationToken);
        if (current is null || current.VmState == VmStates.Deleted) return null;
        if (current.TaskState != TaskStates.None)
            await FinishOperationAsync(transaction, workloadId, OperationStatuses.Failed, reason, now, cancellationToken);
        await MigrationStore.FailActiveAsync(transaction, workloadId, reason, now, cancellationToken);
        var operation = await InsertOperationAsync(transaction, workloadId, "reschedule", "compute", now, cancellationToken);
        try
        {
            // The savepoint keeps the transaction usable when placement finds no room.
            await transaction.SaveAsync("placement", cancellationToken);
            var target = await placement.ChooseAndLockAsync(transaction, current.Needs(), exclude: current.NodeId, cancellationToken);
            await connection.ExecuteAsync(transaction.In("""
                UPDATE compute.workloads SET node_id = @target, vm_state = @building, task_state = @spawning, desired_state = @running,
                    power_state = @noState, pid = NULL, exit_code = NULL, message = @message, generation = generation + 1, updated_at = @now
                WHERE workload_id = @workloadId
                """, new
            {
                workloadId, target, building = VmStates.Building, spawning = TaskStates.Spawning, running = DesiredStates.Running,
                noState = PowerStates.NoState, message = $"{reason}; placed again", now,
            }, cancellationToken));
        }
        catch (NoCapacityException ex)
        {
            await transaction.RollbackAsync("placement", cancellationToken);
            await connection.ExecuteAsync(transaction.In("""
                UPDATE compute.workloads SET vm_state = @stuckState, task_state = '', message = @message, generation = generation + 1, updated_at = @now
                WHERE workload_id = @workloadId
                """, new { workloadId, stuckState, message = $"{reason}; {ex.Message}", now }, cancellationToken));
            operation = (await FinishOperationAsync(transaction, workloadId, OperationStatuses.Failed, ex.Message, now, cancellationToken))!;
        }
        var workload = await ReloadAsync(transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation, current.NodeId);
    }

    /// <summary>Marks a workload lost (its node is Down) and fails the operation it was running.</summary>
    public async Task<WorkloadRecord?> MarkLostAsync(Guid workloadId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        const string reason = "its node is down";
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(transaction, workloadId, cancellationToken);
        if (current is null || current.VmState is VmStates.Deleted or VmStates.Lost) return null;
        if (current.TaskState != TaskStates.None)
            await FinishOperationAsync(transaction, workloadId, OperationStatuses.Failed, reason, now, cancellationToken);
        await MigrationStore.FailActiveAsync(transaction, workloadId, reason, now, cancellationToken);
        await connection.ExecuteAsync(transaction.In("""
            UPDATE compute.workloads SET vm_state = @lost, task_state = '', message = @reason, updated_at = @now WHERE workload_id = @workloadId
            """, new { workloadId, lost = VmStates.Lost, reason, now }, cancellationToken));
        var workload = await ReloadAsync(transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return workload;
    }
}
