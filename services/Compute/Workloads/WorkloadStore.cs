using System.Security.Cryptography;
using System.Text;
using Dapper;
using Google.Protobuf;
using Npgsql;
using Platform.Compute.Placement;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Data;
using static Platform.Compute.Workloads.WorkloadRows;

namespace Platform.Compute.Workloads;

/// <summary>
/// <c>compute.workloads</c> and <c>compute.operations</c> for the workload API: create, read, and the actions. Every
/// change runs in one transaction that holds the workload's row lock (<see cref="WorkloadRows"/>).
/// </summary>
public sealed class WorkloadStore(NpgsqlDataSource db, NodePlacement placement)
{
    /// <summary>
    /// Places and records a new workload (building, spawning) with its create operation. <paramref name="alsoRecord"/>
    /// runs in the same transaction with the new workload's id (a session's quota check and row), so either all of it
    /// is committed or none. A replayed idempotency key returns the first result.
    /// </summary>
    public async Task<(WorkloadRecord Workload, OperationRecord Operation, bool Replayed)> CreateAsync(
        CreateWorkloadRequest request, string owner, DateTimeOffset now, CancellationToken cancellationToken,
        Func<NpgsqlTransaction, Guid, Task>? alsoRecord = null)
    {
        var key = request.IdempotencyKey == "" ? null : request.IdempotencyKey;
        var hash = key is null ? null : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request))));
        if (key is not null && await ReplayAsync(owner, key, hash!, cancellationToken) is { } replay)
            return (replay.Workload, replay.Operation, true);

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var nodeId = await placement.ChooseAndLockAsync(transaction, request, exclude: null, cancellationToken);
        var workloadId = Guid.NewGuid();
        try
        {
            await connection.ExecuteAsync(transaction.In("""
                INSERT INTO compute.workloads (workload_id, name, owner, node_id, driver, image, command, args, env, labels, node_selector,
                    cpu_millis, memory_bytes, gpu_count, restart_policy, network, vm_state, task_state, desired_state, created_at, updated_at,
                    idempotency_key, idempotency_hash)
                VALUES (@workloadId, @Name, @owner, @nodeId, @Driver, @Image, @Command, @args, @env, @labels, @nodeSelector,
                    @CpuMillis, @MemoryBytes, @GpuCount, @RestartPolicy, @Network, @vmState, @taskState, @desiredState, @now, @now, @key, @hash)
                """, new
            {
                workloadId, request.Name, owner, nodeId, request.Driver, request.Image, request.Command, args = request.Args.ToArray(),
                env = request.Env.ToDictionary(), labels = request.Labels.ToDictionary(), nodeSelector = request.NodeSelector.ToDictionary(),
                request.CpuMillis, request.MemoryBytes, request.GpuCount, request.RestartPolicy, request.Network,
                vmState = VmStates.Building, taskState = TaskStates.Spawning, desiredState = DesiredStates.Running, now, key, hash,
            }, cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "workloads_idempotency_unique")
        {
            // A concurrent create with the same key won: answer with its result.
            await transaction.RollbackAsync(cancellationToken);
            var winner = await ReplayAsync(owner, key!, hash!, cancellationToken) ?? throw new InvalidOperationException("idempotent create vanished");
            return (winner.Workload, winner.Operation, true);
        }
        var operation = await InsertOperationAsync(transaction, workloadId, "create", owner, now, cancellationToken);
        if (alsoRecord is not null) await alsoRecord(transaction, workloadId);
        var workload = await ReloadAsync(transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation, false);
    }

    async Task<(WorkloadRecord Workload, OperationRecord Operation)?> ReplayAsync(string owner, string key, string hash, CancellationToken cancellationToken)
    {
        var stored = await db.QuerySingleOrDefaultAsync<string>(
            "SELECT idempotency_hash FROM compute.workloads WHERE owner = @owner AND idempotency_key = @key", new { owner, key }, cancellationToken);
        if (stored is null) return null;
        if (stored != hash) throw new IdempotencyMismatchException(key);
        var workload = (await db.QuerySingleOrDefaultAsync<WorkloadRecord>(
            $"SELECT {Columns} FROM compute.workloads WHERE owner = @owner AND idempotency_key = @key", new { owner, key }, cancellationToken))!;
        var operation = (await OperationsAsync(workload.WorkloadId, cancellationToken)).First(o => o.Action == "create");
        return (workload, operation);
    }

    /// <summary>
    /// Runs an action: checks the transition table under the row lock (or throws <see cref="WorkloadConflictException"/>),
    /// fails the operation it interrupts, sets the task and what the agent is asked for, applies <paramref name="change"/>
    /// and records the operation; an instant action's operation is done at once.
    /// </summary>
    public async Task<(WorkloadRecord Workload, OperationRecord Operation)?> ApplyAsync(
        Guid workloadId, WorkloadAction action, WorkloadChange change, string requestedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(transaction, workloadId, cancellationToken);
        if (current is null) return null;
        if (!WorkloadTransitions.Allows(action, current.VmState, current.TaskState))
            throw new WorkloadConflictException(current, action.Name);

        if (current.TaskState != TaskStates.None)
            await FinishOperationAsync(transaction, workloadId, OperationStatuses.Failed, $"interrupted by {action.Name}", now, cancellationToken);

        await connection.ExecuteAsync(transaction.In("""
            UPDATE compute.workloads SET updated_at = @now,
                task_state = CASE WHEN @instant THEN task_state ELSE @task END,
                desired_state = CASE WHEN @instant THEN desired_state ELSE @desired END,
                generation = generation + CASE WHEN @instant THEN 0 ELSE 1 END,
                message = CASE WHEN @instant THEN message ELSE '' END,
                name = coalesce(@name, name), restart_policy = coalesce(@restartPolicy, restart_policy), labels = coalesce(@labels, labels),
                stop_timeout_ms = coalesce(@stopTimeoutMs, stop_timeout_ms), force_stop = coalesce(@forceStop, force_stop),
                restart_hard = coalesce(@restartHard, restart_hard),
                restart_generation = restart_generation + CASE WHEN @nextRestart THEN 1 ELSE 0 END
            WHERE workload_id = @workloadId
            """, new
        {
            workloadId, now, instant = action.Instant, task = action.Task, desired = action.Desired ?? "",
            name = change.Name, restartPolicy = change.RestartPolicy, labels = change.Labels, stopTimeoutMs = change.StopTimeoutMs,
            forceStop = change.ForceStop, restartHard = change.RestartHard, nextRestart = change.NextRestart,
        }, cancellationToken));
        var operation = await InsertOperationAsync(transaction, workloadId, action.Name, requestedBy, now, cancellationToken);
        if (action.Instant)
            operation = await FinishOperationAsync(transaction, workloadId, OperationStatuses.Succeeded, "", now, cancellationToken) ?? operation;
        var workload = await ReloadAsync(transaction, workloadId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation);
    }

    public Task<WorkloadRecord?> GetAsync(Guid workloadId, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<WorkloadRecord>($"SELECT {Columns} FROM compute.workloads WHERE workload_id = @workloadId", new { workloadId }, cancellationToken);

    public Task<IReadOnlyList<WorkloadRecord>> ListAsync(ListWorkloadsRequest filter, CancellationToken cancellationToken)
    {
        var label = filter.Label.Split('=', 2);
        return db.QueryAsync<WorkloadRecord>($"""
            SELECT {Columns} FROM compute.workloads
            WHERE (@nodeId::uuid IS NULL OR node_id = @nodeId) AND (@vmState = '' OR vm_state = @vmState) AND (@driver = '' OR driver = @driver)
              AND (@labelKey = '' OR labels ->> @labelKey = @labelValue) AND (@includeDeleted OR vm_state <> @deleted)
            ORDER BY created_at
            """, new
        {
            nodeId = Guid.TryParse(filter.NodeId, out var node) ? node : (Guid?)null, vmState = filter.VmState, driver = filter.Driver,
            labelKey = label[0], labelValue = label.Length == 2 ? label[1] : "", includeDeleted = filter.IncludeDeleted, deleted = VmStates.Deleted,
        }, cancellationToken);
    }

    /// <summary>Workloads that are not deleted, counted by vm state, power state and driver (one row per combination).</summary>
    public Task<IReadOnlyList<(string VmState, string PowerState, string Driver, long Count)>> CountAsync(CancellationToken cancellationToken) =>
        db.QueryAsync<(string, string, string, long)>("""
            SELECT vm_state, power_state, driver, count(*) FROM compute.workloads WHERE vm_state <> @deleted GROUP BY vm_state, power_state, driver
            """, new { deleted = VmStates.Deleted }, cancellationToken);

    /// <summary>The node's workloads that are not deleted, oldest first: what leaves with it when it goes down or drains.</summary>
    public Task<IReadOnlyList<WorkloadRecord>> OnNodeAsync(Guid nodeId, CancellationToken cancellationToken) =>
        db.QueryAsync<WorkloadRecord>($"SELECT {Columns} FROM compute.workloads WHERE node_id = @nodeId AND vm_state <> @deleted ORDER BY created_at",
            new { nodeId, deleted = VmStates.Deleted }, cancellationToken);

    public Task<OperationRecord?> OperationAsync(Guid operationId, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<OperationRecord>($"SELECT {OperationColumns} FROM compute.operations WHERE operation_id = @operationId",
            new { operationId }, cancellationToken);

    public Task<IReadOnlyList<OperationRecord>> OperationsAsync(Guid workloadId, CancellationToken cancellationToken) =>
        db.QueryAsync<OperationRecord>($"SELECT {OperationColumns} FROM compute.operations WHERE workload_id = @workloadId ORDER BY created_at",
            new { workloadId }, cancellationToken);
}
