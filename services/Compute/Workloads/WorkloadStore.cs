using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>The same idempotency key came with a different request.</summary>
public sealed class IdempotencyMismatchException(string key)
    : Exception($"Idempotency key '{key}' was used before with a different request.");

/// <summary>
/// <c>compute.workloads</c> and <c>compute.operations</c>. Every change runs in one transaction that locks the workload
/// row, so actions, agent reports and the node monitor never interleave on one workload.
/// </summary>
public sealed partial class WorkloadStore(NpgsqlDataSource db, Placement placement)
{
    const string Columns = """
        workload_id, name, owner, node_id, driver, image, command, args, env::text, labels::text, node_selector::text,
        cpu_millis, memory_bytes, gpu_count, restart_policy, vm_state, task_state, power_state, desired_state,
        restart_generation, restart_hard, stop_timeout_ms, force_stop, generation, pid, exit_code, restarts, message,
        started_at, finished_at, created_at, updated_at
        """;

    const string OperationColumns = "operation_id, workload_id, action, status, error, requested_by, created_at, finished_at";

    /// <summary>
    /// Places and records a new workload (building, spawning) with its create operation. <paramref name="alsoRecord"/>
    /// runs in the same transaction with the new workload's id (a session's quota check and row), so either all of it
    /// is committed or none.
    /// </summary>
    public async Task<(WorkloadRecord Workload, OperationRecord Operation, bool Replayed)> CreateAsync(
        CreateWorkloadRequest request, string owner, DateTimeOffset now, CancellationToken cancellationToken,
        Func<NpgsqlConnection, NpgsqlTransaction, Guid, Task>? alsoRecord = null)
    {
        var key = request.IdempotencyKey == "" ? null : request.IdempotencyKey;
        var hash = key is null ? null : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request))));
        if (key is not null && await ReplayAsync(owner, key, hash!, cancellationToken) is { } replay)
            return (replay.Workload, replay.Operation, true);

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var nodeId = await placement.ChooseAndLockAsync(connection, transaction, request, exclude: null, cancellationToken);
        var workloadId = Guid.NewGuid();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO compute.workloads (workload_id, name, owner, node_id, driver, image, command, args, env, labels, node_selector,
                cpu_millis, memory_bytes, gpu_count, restart_policy, vm_state, task_state, desired_state, created_at, updated_at,
                idempotency_key, idempotency_hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'building', 'spawning', 'running', $16, $16, $17, $18)
            """, connection, transaction))
        {
            var p = insert.Parameters;
            p.Add(new() { Value = workloadId });
            p.Add(new() { Value = request.Name });
            p.Add(new() { Value = owner });
            p.Add(new() { Value = nodeId });
            p.Add(new() { Value = request.Driver });
            p.Add(new() { Value = request.Image });
            p.Add(new() { Value = request.Command });
            p.Add(new() { Value = request.Args.ToArray() });
            p.Add(Json(request.Env));
            p.Add(Json(request.Labels));
            p.Add(Json(request.NodeSelector));
            p.Add(new() { Value = request.CpuMillis });
            p.Add(new() { Value = request.MemoryBytes });
            p.Add(new() { Value = request.GpuCount });
            p.Add(new() { Value = request.RestartPolicy });
            p.Add(new() { Value = now });
            p.Add(new() { Value = (object?)key ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = (object?)hash ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            try
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "workloads_idempotency_unique")
            {
                // A concurrent create with the same key won: answer with its result.
                await transaction.RollbackAsync(cancellationToken);
                var winner = await ReplayAsync(owner, key!, hash!, cancellationToken) ?? throw new InvalidOperationException("idempotent create vanished");
                return (winner.Workload, winner.Operation, true);
            }
        }
        var operation = await InsertOperationAsync(connection, transaction, workloadId, "create", owner, now, cancellationToken);
        if (alsoRecord is not null) await alsoRecord(connection, transaction, workloadId);
        var workload = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation, false);
    }

    async Task<(WorkloadRecord Workload, OperationRecord Operation)?> ReplayAsync(string owner, string key, string hash, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns}, idempotency_hash FROM compute.workloads WHERE owner = $1 AND idempotency_key = $2");
        command.Parameters.Add(new() { Value = owner });
        command.Parameters.Add(new() { Value = key });
        WorkloadRecord workload;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            if (reader.GetString(32) != hash) throw new IdempotencyMismatchException(key);
            workload = Read(reader);
        }
        var operation = (await OperationsAsync(workload.WorkloadId, cancellationToken)).First(o => o.Action == "create");
        return (workload, operation);
    }

    /// <summary>
    /// Runs an action: checks the transition table under the row lock (or throws <see cref="WorkloadConflictException"/>),
    /// fails the operation it interrupts, sets the task and what the agent is asked for, and records the operation.
    /// <paramref name="change"/> adds the action's own column changes as SQL assignments over parameters $3 onwards.
    /// </summary>
    public async Task<(WorkloadRecord Workload, OperationRecord Operation)?> ApplyAsync(
        Guid workloadId, WorkloadAction action, string requestedBy, DateTimeOffset now, string change, object[] changeParameters,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(connection, transaction, workloadId, cancellationToken);
        if (current is null) return null;
        if (!WorkloadTransitions.Allows(action, current.VmState, current.TaskState))
            throw new WorkloadConflictException(current, action.Name);

        if (current.TaskState != "")
            await FinishOperationAsync(connection, transaction, workloadId, "failed", $"interrupted by {action.Name}", now, cancellationToken);

        var instant = action.Task == "";
        var sets = new List<string> { "updated_at = $2" };
        if (!instant)
            sets.AddRange(["task_state = $" + (3 + changeParameters.Length), "desired_state = $" + (4 + changeParameters.Length), "generation = generation + 1", "message = ''"]);
        if (change != "") sets.Add(change);
        await using (var update = new NpgsqlCommand($"UPDATE compute.workloads SET {string.Join(", ", sets)} WHERE workload_id = $1", connection, transaction))
        {
            update.Parameters.Add(new() { Value = workloadId });
            update.Parameters.Add(new() { Value = now });
            foreach (var value in changeParameters) update.Parameters.Add(new() { Value = value });
            if (!instant)
            {
                update.Parameters.Add(new() { Value = action.Task });
                update.Parameters.Add(new() { Value = action.Desired! });
            }
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        var operation = await InsertOperationAsync(connection, transaction, workloadId, action.Name, requestedBy, now, cancellationToken);
        if (instant) operation = await FinishOperationAsync(connection, transaction, workloadId, "succeeded", "", now, cancellationToken) ?? operation;
        var workload = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation);
    }

    public async Task<WorkloadRecord?> GetAsync(Guid workloadId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM compute.workloads WHERE workload_id = $1");
        command.Parameters.Add(new() { Value = workloadId });
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<WorkloadRecord>> ListAsync(ListWorkloadsRequest filter, CancellationToken cancellationToken)
    {
        var label = filter.Label.Split('=', 2);
        await using var command = db.CreateCommand($"""
            SELECT {Columns} FROM compute.workloads
            WHERE ($1::uuid IS NULL OR node_id = $1) AND ($2 = '' OR vm_state = $2) AND ($3 = '' OR driver = $3)
              AND ($4 = '' OR labels ->> $4 = $5) AND ($6 OR vm_state <> 'deleted')
            ORDER BY created_at
            """);
        command.Parameters.Add(new() { Value = Guid.TryParse(filter.NodeId, out var node) ? node : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = filter.VmState });
        command.Parameters.Add(new() { Value = filter.Driver });
        command.Parameters.Add(new() { Value = label[0] });
        command.Parameters.Add(new() { Value = label.Length == 2 ? label[1] : "" });
        command.Parameters.Add(new() { Value = filter.IncludeDeleted });
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>What a node's agent must make true: its workloads that are not deleted.</summary>
    public async Task<IReadOnlyList<WorkloadRecord>> OnNodeAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM compute.workloads WHERE node_id = $1 AND vm_state <> 'deleted' ORDER BY created_at");
        command.Parameters.Add(new() { Value = nodeId });
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<OperationRecord?> OperationAsync(Guid operationId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {OperationColumns} FROM compute.operations WHERE operation_id = $1");
        command.Parameters.Add(new() { Value = operationId });
        return (await ReadOperationsAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<OperationRecord>> OperationsAsync(Guid workloadId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {OperationColumns} FROM compute.operations WHERE workload_id = $1 ORDER BY created_at");
        command.Parameters.Add(new() { Value = workloadId });
        return await ReadOperationsAsync(command, cancellationToken);
    }

    static async Task<OperationRecord> InsertOperationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workloadId, string action,
        string requestedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            INSERT INTO compute.operations (operation_id, workload_id, action, status, requested_by, created_at)
            VALUES ($1, $2, $3, 'running', $4, $5) RETURNING {OperationColumns}
            """, connection, transaction);
        command.Parameters.Add(new() { Value = Guid.NewGuid() });
        command.Parameters.Add(new() { Value = workloadId });
        command.Parameters.Add(new() { Value = action });
        command.Parameters.Add(new() { Value = requestedBy });
        command.Parameters.Add(new() { Value = now });
        return (await ReadOperationsAsync(command, cancellationToken)).Single();
    }

    static async Task<OperationRecord?> FinishOperationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workloadId, string status,
        string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            UPDATE compute.operations SET status = $2, error = $3, finished_at = $4
            WHERE workload_id = $1 AND status = 'running' RETURNING {OperationColumns}
            """, connection, transaction);
        command.Parameters.Add(new() { Value = workloadId });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = error });
        command.Parameters.Add(new() { Value = now });
        return (await ReadOperationsAsync(command, cancellationToken)).SingleOrDefault();
    }

    static async Task<WorkloadRecord?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workloadId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM compute.workloads WHERE workload_id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new() { Value = workloadId });
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static NpgsqlParameter Json(Google.Protobuf.Collections.MapField<string, string> map) =>
        new() { Value = JsonSerializer.Serialize(map.ToDictionary()), NpgsqlDbType = NpgsqlDbType.Jsonb };

    static async Task<IReadOnlyList<WorkloadRecord>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var workloads = new List<WorkloadRecord>();
        while (await reader.ReadAsync(cancellationToken)) workloads.Add(Read(reader));
        return workloads;
    }

    static async Task<IReadOnlyList<OperationRecord>> ReadOperationsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var operations = new List<OperationRecord>();
        while (await reader.ReadAsync(cancellationToken))
            operations.Add(new(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7)));
        return operations;
    }

    static Dictionary<string, string> Map(NpgsqlDataReader reader, int ordinal) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(ordinal)) ?? [];

    static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    static WorkloadRecord Read(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetGuid(3), r.GetString(4), r.GetString(5), r.GetString(6),
        r.GetFieldValue<string[]>(7), Map(r, 8), Map(r, 9), Map(r, 10), r.GetInt32(11), r.GetInt64(12), r.GetInt32(13), r.GetString(14),
        r.GetString(15), r.GetString(16), r.GetString(17), r.GetString(18), r.GetInt64(19), r.GetBoolean(20), r.GetInt64(21), r.GetBoolean(22),
        r.GetInt64(23), r.IsDBNull(24) ? null : r.GetInt32(24), r.IsDBNull(25) ? null : r.GetInt32(25), r.GetInt32(26), r.GetString(27),
        Time(r, 28), Time(r, 29), r.GetFieldValue<DateTimeOffset>(30), r.GetFieldValue<DateTimeOffset>(31));
}
