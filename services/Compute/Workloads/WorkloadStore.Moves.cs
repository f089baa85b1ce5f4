using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>Workloads leaving their node: placed elsewhere (Down or draining node) or lost.</summary>
public sealed partial class WorkloadStore
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
        var current = await LockAsync(connection, transaction, workloadId, cancellationToken);
        if (current is null || current.VmState == "deleted") return null;
        if (current.TaskState != "")
            await FinishOperationAsync(connection, transaction, workloadId, "failed", reason, now, cancellationToken);
        await FailActiveMigrationAsync(connection, transaction, workloadId, reason, now, cancellationToken);
        var operation = await InsertOperationAsync(connection, transaction, workloadId, "reschedule", "compute", now, cancellationToken);

        var request = new CreateWorkloadRequest
        {
            Driver = current.Driver, CpuMillis = current.CpuMillis, MemoryBytes = current.MemoryBytes, GpuCount = current.GpuCount,
            NodeSelector = { current.NodeSelector },
        };
        string set;
        object?[] values;
        try
        {
            // The savepoint keeps the transaction usable when placement finds no room.
            await transaction.SaveAsync("placement", cancellationToken);
            var target = await placement.ChooseAndLockAsync(connection, transaction, request, exclude: current.NodeId, cancellationToken);
            set = "node_id = $2, vm_state = 'building', task_state = 'spawning', desired_state = 'running', power_state = 'nostate', pid = NULL, exit_code = NULL, message = $3";
            values = [target, $"{reason}; placed again"];
        }
        catch (NoCapacityException ex)
        {
            await transaction.RollbackAsync("placement", cancellationToken);
            set = "vm_state = $2, task_state = '', message = $3";
            values = [stuckState, $"{reason}; {ex.Message}"];
            operation = (await FinishOperationAsync(connection, transaction, workloadId, "failed", ex.Message, now, cancellationToken))!;
        }
        await using (var update = new NpgsqlCommand($"UPDATE compute.workloads SET {set}, generation = generation + 1, updated_at = $4 WHERE workload_id = $1", connection, transaction))
        {
            update.Parameters.Add(new() { Value = workloadId });
            foreach (var value in values) update.Parameters.Add(new() { Value = value });
            update.Parameters.Add(new() { Value = now });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        var workload = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation, current.NodeId);
    }

    /// <summary>Marks a workload lost (its node is Down) and fails the operation it was running.</summary>
    public async Task<WorkloadRecord?> MarkLostAsync(Guid workloadId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(connection, transaction, workloadId, cancellationToken);
        if (current is null || current.VmState is "deleted" or "lost") return null;
        if (current.TaskState != "")
            await FinishOperationAsync(connection, transaction, workloadId, "failed", "its node is down", now, cancellationToken);
        await FailActiveMigrationAsync(connection, transaction, workloadId, "its node is down", now, cancellationToken);
        await Execute(connection, transaction, $"UPDATE compute.workloads SET vm_state = 'lost', task_state = '', message = 'its node is down', updated_at = now() WHERE workload_id = '{workloadId}'", cancellationToken);
        var workload = await LockAsync(connection, transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return workload;
    }
}
