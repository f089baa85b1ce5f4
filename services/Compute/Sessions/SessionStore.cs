using Dapper;
using Npgsql;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Data;

namespace Platform.Compute.Sessions;

/// <summary><c>compute.sessions</c> and <c>compute.quotas</c>.</summary>
public sealed class SessionStore(NpgsqlDataSource db)
{
    const string Select = """
        SELECT s.session_id, s.user_name, s.application, s.cpu_cores, s.gpu_units, s.memory_bytes, s.workload_id,
               w.node_id, w.vm_state, s.created_at, s.terminated_at
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
        await connection.ExecuteAsync(transaction.In("SELECT pg_advisory_xact_lock(hashtextextended('compute.quota:' || @User, 0))", new { request.User }, cancellationToken));
        var quota = await QuotaAsync(connection, transaction, request.User, defaults, cancellationToken);
        string? exceeded =
            quota.UsedSessions + 1 > quota.Sessions ? $"{quota.Sessions} open sessions" :
            quota.UsedCpuCores + request.CpuCores > quota.CpuCores ? $"{quota.CpuCores} CPU cores ({quota.UsedCpuCores} in use)" :
            quota.UsedGpuUnits + request.GpuUnits > quota.GpuUnits ? $"{quota.GpuUnits} GPU units ({quota.UsedGpuUnits} in use)" :
            quota.UsedMemoryBytes + request.MemoryBytes > quota.MemoryBytes ? $"{quota.MemoryBytes} bytes of memory ({quota.UsedMemoryBytes} in use)" : null;
        if (exceeded is not null) throw new QuotaExceededException($"User {request.User}'s quota allows {exceeded}.");

        await connection.ExecuteAsync(transaction.In("""
            INSERT INTO compute.sessions (session_id, user_name, application, cpu_cores, gpu_units, memory_bytes, workload_id, created_at)
            VALUES (@sessionId, @User, @Application, @CpuCores, @GpuUnits, @MemoryBytes, @workloadId, @now)
            """, new { sessionId, request.User, request.Application, request.CpuCores, request.GpuUnits, request.MemoryBytes, workloadId, now }, cancellationToken));
    }

    /// <summary>The user's quota (or the default) with what their open sessions use.</summary>
    public async Task<Quota> QuotaAsync(string user, QuotaLimits defaults, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await QuotaAsync(connection, null, user, defaults, cancellationToken);
    }

    sealed record QuotaRow(int? CpuCores, int? GpuUnits, long? MemoryBytes, int? Sessions, int UsedCpu, int UsedGpu, long UsedMemory, int UsedSessions);

    static async Task<Quota> QuotaAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string user, QuotaLimits defaults, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleAsync<QuotaRow>(new CommandDefinition("""
            SELECT q.cpu_cores, q.gpu_units, q.memory_bytes, q.sessions, u.used_cpu, u.used_gpu, u.used_memory, u.used_sessions
            FROM (SELECT 1) one
            LEFT JOIN compute.quotas q ON q.user_name = @user
            CROSS JOIN (SELECT coalesce(sum(cpu_cores), 0)::int AS used_cpu, coalesce(sum(gpu_units), 0)::int AS used_gpu,
                               coalesce(sum(memory_bytes), 0)::bigint AS used_memory, count(*)::int AS used_sessions
                        FROM compute.sessions WHERE user_name = @user AND terminated_at IS NULL) u
            """, new { user }, transaction, cancellationToken: cancellationToken));
        var own = row.CpuCores is not null;
        return new Quota
        {
            User = user,
            CpuCores = own ? row.CpuCores!.Value : defaults.CpuCores, GpuUnits = own ? row.GpuUnits!.Value : defaults.GpuUnits,
            MemoryBytes = own ? row.MemoryBytes!.Value : defaults.MemoryBytes, Sessions = own ? row.Sessions!.Value : defaults.Sessions,
            UsedCpuCores = row.UsedCpu, UsedGpuUnits = row.UsedGpu, UsedMemoryBytes = row.UsedMemory, UsedSessions = row.UsedSessions,
        };
    }

    public Task SetQuotaAsync(Quota quota, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            INSERT INTO compute.quotas (user_name, cpu_cores, gpu_units, memory_bytes, sessions, updated_at) VALUES (@User, @CpuCores, @GpuUnits, @MemoryBytes, @Sessions, @now)
            ON CONFLICT (user_name) DO UPDATE SET cpu_cores = @CpuCores, gpu_units = @GpuUnits, memory_bytes = @MemoryBytes, sessions = @Sessions, updated_at = @now
            """, new { quota.User, quota.CpuCores, quota.GpuUnits, quota.MemoryBytes, quota.Sessions, now }, cancellationToken);

    public async Task<Session?> GetAsync(Guid sessionId, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<SessionRow>($"{Select} WHERE s.session_id = @sessionId", new { sessionId }, cancellationToken))?.ToMessage();

    public async Task<IReadOnlyList<Session>> ListAsync(string? user, bool includeTerminated, CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<SessionRow>($"{Select} WHERE (@user::text IS NULL OR s.user_name = @user) AND (@includeTerminated OR s.terminated_at IS NULL) ORDER BY s.created_at",
            new { user, includeTerminated }, cancellationToken)).Select(row => row.ToMessage())];

    /// <summary>Closes the session (its quota is free from now); false when it was closed already.</summary>
    public async Task<bool> CloseAsync(Guid sessionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE compute.sessions SET terminated_at = @now WHERE session_id = @sessionId AND terminated_at IS NULL",
            new { sessionId, now }, cancellationToken) == 1;

    sealed record SessionRow
    {
        public Guid SessionId { get; init; }
        public string UserName { get; init; } = "";
        public string Application { get; init; } = "";
        public int CpuCores { get; init; }
        public int GpuUnits { get; init; }
        public long MemoryBytes { get; init; }
        public Guid WorkloadId { get; init; }
        public Guid? NodeId { get; init; }
        public string VmState { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset? TerminatedAt { get; init; }

        public Session ToMessage() => new()
        {
            SessionId = SessionId.ToString(), User = UserName, Application = Application, CpuCores = CpuCores, GpuUnits = GpuUnits,
            MemoryBytes = MemoryBytes, WorkloadId = WorkloadId.ToString(), NodeId = NodeId?.ToString() ?? "", WorkloadState = VmState,
            Status = TerminatedAt is not null ? "terminated" : VmState switch
            {
                VmStates.Building => "starting",
                VmStates.Active => "active",
                VmStates.Paused => "paused",
                _ => "failed",
            },
            CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(), TerminatedAtMs = TerminatedAt?.ToUnixTimeMilliseconds() ?? 0,
        };
    }
}
