using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Compute.Workloads;

/// <summary>
/// The statements every feature that changes a workload shares, inside its caller's transaction: lock the row (every
/// change does, so actions, agent reports, migrations and the node monitor never interleave on one workload) and open or
/// finish its operation.
/// </summary>
internal static class WorkloadRows
{
    public const string Columns = """
        workload_id, name, owner, node_id, driver, image, command, args, env, labels, node_selector,
        cpu_millis, memory_bytes, gpu_count, restart_policy, network, vm_state, task_state, power_state, desired_state,
        restart_generation, restart_hard, stop_timeout_ms, force_stop, generation, pid, exit_code, restarts, message,
        started_at, finished_at, created_at, updated_at
        """;

    public const string OperationColumns = "operation_id, workload_id, action, status, error, requested_by, created_at, finished_at";

    /// <summary>Locks the workload's row and reads it (raw Npgsql: see <see cref="WorkloadReader"/>); null when there is none.</summary>
    public static async Task<WorkloadRecord?> LockAsync(NpgsqlTransaction transaction, Guid workloadId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM compute.workloads WHERE workload_id = $1 FOR UPDATE", transaction.Connection, transaction);
        command.Parameters.Add(new() { Value = workloadId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new WorkloadReader(reader).Read() : null;
    }

    /// <summary>The row after the caller's changes (still locked).</summary>
    public static async Task<WorkloadRecord> ReloadAsync(NpgsqlTransaction transaction, Guid workloadId, CancellationToken cancellationToken) =>
        await LockAsync(transaction, workloadId, cancellationToken) ?? throw new InvalidOperationException($"Workload {workloadId} vanished under its row lock.");

    public static async Task<OperationRecord> InsertOperationAsync(NpgsqlTransaction transaction, Guid workloadId, string action, string requestedBy,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        await transaction.Connection!.QuerySingleAsync<OperationRecord>(transaction.In($"""
            INSERT INTO compute.operations (operation_id, workload_id, action, status, requested_by, created_at)
            VALUES (@operationId, @workloadId, @action, @status, @requestedBy, @now) RETURNING {OperationColumns}
            """, new { operationId = Guid.NewGuid(), workloadId, action, status = OperationStatuses.Running, requestedBy, now }, cancellationToken));

    /// <summary>Finishes the workload's running operation, if it has one, as <paramref name="status"/>.</summary>
    public static async Task<OperationRecord?> FinishOperationAsync(NpgsqlTransaction transaction, Guid workloadId, string status, string error,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        await transaction.Connection!.QuerySingleOrDefaultAsync<OperationRecord>(transaction.In($"""
            UPDATE compute.operations SET status = @status, error = @error, finished_at = @now
            WHERE workload_id = @workloadId AND status = @running RETURNING {OperationColumns}
            """, new { workloadId, status, error, now, running = OperationStatuses.Running }, cancellationToken));
}
