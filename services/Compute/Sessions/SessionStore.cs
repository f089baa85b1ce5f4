using Npgsql;
using Platform.Compute.V1;

namespace Platform.Compute.Sessions;

/// <summary><c>compute.sessions</c> and <c>compute.quotas</c>.</summary>
public sealed class SessionStore(NpgsqlDataSource db)
{
    const string Select = """
        SELECT s.session_id, s.user_name, s.application, s.cpu_cores, s.gpu_units, s.memory_bytes, s.workload_id,
               w.node_id, w.vm_state, w.task_state, s.created_at, s.terminated_at
        FROM compute.sessions s JOIN compute.workloads w USING (workload_id)
        """;

    /// <summary>
    /// Inside the workload's create transaction: takes the user's quota lock, checks the open sessions plus this one
    /// against the quota and records the session. Concurrent creates of one user take turns on the lock.
    /// </summary>
    public static async Task RecordWithinQuotaAsync(NpgsqlTransaction transaction, Guid sessionId, Guid workloadId,
        CreateSessionRequest request, QuotaLimits defaults, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        await using (var lockUser = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('compute.quota:' || $1, 0))", connection, transaction))
        {
            lockUser.Parameters.Add(new() { Value = request.User });
            await lockUser.ExecuteNonQueryAsync(cancellationToken);
        }
        var quota = await QuotaAsync(connection, transaction, request.User, defaults, cancellationToken);
        string? exceeded =
            quota.UsedSessions + 1 > quota.Sessions ? $"{quota.Sessions} open sessions" :
            quota.UsedCpuCores + request.CpuCores > quota.CpuCores ? $"{quota.CpuCores} CPU cores ({quota.UsedCpuCores} in use)" :
            quota.UsedGpuUnits + request.GpuUnits > quota.GpuUnits ? $"{quota.GpuUnits} GPU units ({quota.UsedGpuUnits} in use)" :
            quota.UsedMemoryBytes + request.MemoryBytes > quota.MemoryBytes ? $"{quota.MemoryBytes} bytes of memory ({quota.UsedMemoryBytes} in use)" : null;
        if (exceeded is not null) throw new QuotaExceededException($"User {request.User}'s quota allows {exceeded}.");

        await using var insert = new NpgsqlCommand("""
            INSERT INTO compute.sessions (session_id, user_name, application, cpu_cores, gpu_units, memory_bytes, workload_id, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, connection, transaction);
        insert.Parameters.Add(new() { Value = sessionId });
        insert.Parameters.Add(new() { Value = request.User });
        insert.Parameters.Add(new() { Value = request.Application });
        insert.Parameters.Add(new() { Value = request.CpuCores });
        insert.Parameters.Add(new() { Value = request.GpuUnits });
        insert.Parameters.Add(new() { Value = request.MemoryBytes });
        insert.Parameters.Add(new() { Value = workloadId });
        insert.Parameters.Add(new() { Value = now });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The user's quota (or the default) with what their open sessions use.</summary>
    public async Task<Quota> QuotaAsync(string user, QuotaLimits defaults, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await QuotaAsync(connection, null, user, defaults, cancellationToken);
    }

    static async Task<Quota> QuotaAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string user, QuotaLimits defaults, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT q.cpu_cores, q.gpu_units, q.memory_bytes, q.sessions, u.cpu, u.gpu, u.memory, u.open
            FROM (SELECT 1) one
            LEFT JOIN compute.quotas q ON q.user_name = $1
            CROSS JOIN (SELECT coalesce(sum(cpu_cores), 0)::int AS cpu, coalesce(sum(gpu_units), 0)::int AS gpu,
                               coalesce(sum(memory_bytes), 0)::bigint AS memory, count(*)::int AS open
                        FROM compute.sessions WHERE user_name = $1 AND terminated_at IS NULL) u
            """, connection, transaction);
        command.Parameters.Add(new() { Value = user });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var own = !reader.IsDBNull(0);
        return new Quota
        {
            User = user,
            CpuCores = own ? reader.GetInt32(0) : defaults.CpuCores, GpuUnits = own ? reader.GetInt32(1) : defaults.GpuUnits,
            MemoryBytes = own ? reader.GetInt64(2) : defaults.MemoryBytes, Sessions = own ? reader.GetInt32(3) : defaults.Sessions,
            UsedCpuCores = reader.GetInt32(4), UsedGpuUnits = reader.GetInt32(5), UsedMemoryBytes = reader.GetInt64(6), UsedSessions = reader.GetInt32(7),
        };
    }

    public async Task SetQuotaAsync(Quota quota, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            INSERT INTO compute.quotas (user_name, cpu_cores, gpu_units, memory_bytes, sessions, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (user_name) DO UPDATE SET cpu_cores = $2, gpu_units = $3, memory_bytes = $4, sessions = $5, updated_at = $6
            """);
        command.Parameters.Add(new() { Value = quota.User });
        command.Parameters.Add(new() { Value = quota.CpuCores });
        command.Parameters.Add(new() { Value = quota.GpuUnits });
        command.Parameters.Add(new() { Value = quota.MemoryBytes });
        command.Parameters.Add(new() { Value = quota.Sessions });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Session?> GetAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"{Select} WHERE s.session_id = $1");
        command.Parameters.Add(new() { Value = sessionId });
        return (await ReadAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<Session>> ListAsync(string? user, bool includeTerminated, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"{Select} WHERE ($1::text IS NULL OR s.user_name = $1) AND ($2 OR s.terminated_at IS NULL) ORDER BY s.created_at");
        command.Parameters.Add(new() { Value = (object?)user ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = includeTerminated });
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Closes the session (its quota is free from now); false when it was closed already.</summary>
    public async Task<bool> CloseAsync(Guid sessionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE compute.sessions SET terminated_at = $2 WHERE session_id = $1 AND terminated_at IS NULL");
        command.Parameters.Add(new() { Value = sessionId });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    static async Task<IReadOnlyList<Session>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var sessions = new List<Session>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var terminated = reader.IsDBNull(11) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(11);
            var vmState = reader.GetString(8);
            sessions.Add(new Session
            {
                SessionId = reader.GetGuid(0).ToString(), User = reader.GetString(1), Application = reader.GetString(2), CpuCores = reader.GetInt32(3),
                GpuUnits = reader.GetInt32(4), MemoryBytes = reader.GetInt64(5), WorkloadId = reader.GetGuid(6).ToString(),
                NodeId = reader.IsDBNull(7) ? "" : reader.GetGuid(7).ToString(), WorkloadState = vmState,
                Status = terminated is not null ? "terminated" : vmState switch
                {
                    "building" => "starting",
                    "active" => "active",
                    "paused" => "paused",
                    _ => "failed",
                },
                CreatedAtMs = reader.GetFieldValue<DateTimeOffset>(10).ToUnixTimeMilliseconds(), TerminatedAtMs = terminated?.ToUnixTimeMilliseconds() ?? 0,
            });
        }
        return sessions;
    }
}
