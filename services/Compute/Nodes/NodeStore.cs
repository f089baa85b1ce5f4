using Npgsql;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Compute.Nodes;

/// <summary>The <c>compute.nodes</c> table, with each node's reserved resources summed from its workloads.</summary>
public sealed class NodeStore(NpgsqlDataSource db)
{
    const string Columns = """
        n.node_id, n.name, n.hostname, n.addresses, n.cpu_cores, n.memory_bytes, n.gpu_count, n.disk_bytes, n.labels,
        n.agent_version, n.registered_at, n.last_heartbeat_at, n.schedulable, n.cordon_reason, n.draining, n.admission,
        n.drivers, n.status, n.agent_url, r.cpu AS reserved_cpu, r.memory AS reserved_memory, r.gpu AS reserved_gpu
        """;

    /// <summary>The reserved sums of a node's workloads that are not deleted and of migrations holding room on it, as columns r.cpu, r.memory, r.gpu.</summary>
    public const string ReservedJoin = """
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(x.cpu_millis), 0)::int AS cpu, coalesce(sum(x.memory_bytes), 0)::bigint AS memory,
                   coalesce(sum(x.gpu_count), 0)::int AS gpu
            FROM (
                SELECT w.cpu_millis, w.memory_bytes, w.gpu_count FROM compute.workloads w WHERE w.node_id = n.node_id AND w.vm_state <> 'deleted'
                UNION ALL
                -- A migration under way holds its workload's resources on the target until the handover, then on the source.
                SELECT w.cpu_millis, w.memory_bytes, w.gpu_count FROM compute.migrations m JOIN compute.workloads w USING (workload_id)
                WHERE m.finished_at IS NULL AND (CASE WHEN m.phase = 'starting' THEN m.source_node_id ELSE m.target_node_id END) = n.node_id
            ) x) r
        """;

    const string Select = $"SELECT {Columns} FROM compute.nodes n {ReservedJoin}";

    /// <summary>
    /// Inserts or refreshes a node. Safe under concurrent registrations: the primary key makes it one upsert, and the
    /// unique name constraint rejects a second node claiming a taken name, and an id keeps its name, so no agent can
    /// take over another node's record (<see cref="NodeNameTakenException"/>). A new
    /// node starts with <paramref name="admission"/>; a known one keeps its admission, cordon and drain.
    /// </summary>
    public async Task<NodeRecord> UpsertAsync(RegisterNodeRequest request, string admission, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await SingleAsync($"""
                WITH upserted AS (
                    INSERT INTO compute.nodes AS n (node_id, name, hostname, addresses, cpu_cores, memory_bytes, gpu_count, disk_bytes, labels,
                                                    agent_version, registered_at, last_heartbeat_at, admission, drivers, status, status_changed_at, agent_url)
                    VALUES (@nodeId, @Name, @Hostname, @addresses, @CpuCores, @MemoryBytes, @GpuCount, @DiskBytes, @labels,
                            @AgentVersion, @now, @now, @admission, @drivers::jsonb, 'Ready', @now, @AgentUrl)
                    ON CONFLICT (node_id) DO UPDATE SET
                        name = EXCLUDED.name, hostname = EXCLUDED.hostname, addresses = EXCLUDED.addresses,
                        cpu_cores = EXCLUDED.cpu_cores, memory_bytes = EXCLUDED.memory_bytes, gpu_count = EXCLUDED.gpu_count,
                        disk_bytes = EXCLUDED.disk_bytes, labels = EXCLUDED.labels, agent_version = EXCLUDED.agent_version,
                        last_heartbeat_at = EXCLUDED.last_heartbeat_at, drivers = EXCLUDED.drivers, agent_url = EXCLUDED.agent_url
                    -- A node keeps its name: an agent bound to another name cannot take over this id's record.
                    WHERE n.name = EXCLUDED.name
                    RETURNING *)
                SELECT {Columns} FROM upserted n {ReservedJoin}
                """, new
            {
                nodeId = Guid.Parse(request.NodeId), request.Name, request.Hostname, addresses = request.Addresses.ToArray(),
                request.Capacity.CpuCores, request.Capacity.MemoryBytes, request.Capacity.GpuCount, request.Capacity.DiskBytes,
                labels = request.Labels.ToDictionary(), request.AgentVersion, now, admission, drivers = NodeRecord.DriversJson(request.Drivers), request.AgentUrl,
            }, cancellationToken) ?? throw new NodeNameTakenException(request.Name, request.NodeId);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "nodes_name_unique")
        {
            throw new NodeNameTakenException(request.Name);
        }
    }

    /// <summary>Renews the lease; null when no such node is registered.</summary>
    public Task<NodeRecord?> RenewAsync(Guid nodeId, DateTimeOffset now, CancellationToken cancellationToken) =>
        SingleAsync($"""
            WITH updated AS (UPDATE compute.nodes SET last_heartbeat_at = @now WHERE node_id = @nodeId RETURNING *)
            SELECT {Columns} FROM updated n {ReservedJoin}
            """, new { nodeId, now }, cancellationToken);

    /// <summary>Sets the scheduling flags of a node (cordon, drain, admission); null leaves a flag as it is, and null comes back when no such node is registered.</summary>
    public Task<NodeRecord?> SetAsync(Guid nodeId, bool? schedulable, string? cordonReason, bool? draining, string? admission, CancellationToken cancellationToken) =>
        SingleAsync($"""
            WITH updated AS (
                UPDATE compute.nodes SET schedulable = coalesce(@schedulable, schedulable), cordon_reason = coalesce(@cordonReason, cordon_reason),
                                         draining = coalesce(@draining, draining), admission = coalesce(@admission, admission)
                WHERE node_id = @nodeId RETURNING *)
            SELECT {Columns} FROM updated n {ReservedJoin}
            """, new { nodeId, schedulable, cordonReason, draining, admission }, cancellationToken);

    /// <summary>Records a status the monitor observed, if it differs from the recorded one; true when it changed.</summary>
    public async Task<bool> RecordStatusAsync(Guid nodeId, string status, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE compute.nodes SET status = @status, status_changed_at = @now WHERE node_id = @nodeId AND status <> @status",
            new { nodeId, status, now }, cancellationToken) == 1;

    public Task<NodeRecord?> GetAsync(Guid nodeId, CancellationToken cancellationToken) =>
        SingleAsync($"{Select} WHERE n.node_id = @nodeId", new { nodeId }, cancellationToken);

    public async Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<NodeRow>($"{Select} ORDER BY n.name", null, cancellationToken)).Select(row => row.ToRecord())];

    async Task<NodeRecord?> SingleAsync(string sql, object parameters, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<NodeRow>(sql, parameters, cancellationToken))?.ToRecord();

    /// <summary>A row of <see cref="Columns"/>, mapped by column name.</summary>
    sealed record NodeRow
    {
        public Guid NodeId { get; init; }
        public string Name { get; init; } = "";
        public string Hostname { get; init; } = "";
        public string[] Addresses { get; init; } = [];
        public int CpuCores { get; init; }
        public long MemoryBytes { get; init; }
        public int GpuCount { get; init; }
        public long DiskBytes { get; init; }
        public Dictionary<string, string> Labels { get; init; } = [];
        public string AgentVersion { get; init; } = "";
        public DateTimeOffset RegisteredAt { get; init; }
        public DateTimeOffset LastHeartbeatAt { get; init; }
        public bool Schedulable { get; init; }
        public string CordonReason { get; init; } = "";
        public bool Draining { get; init; }
        public string Admission { get; init; } = "";
        public string Drivers { get; init; } = "[]";
        public string Status { get; init; } = "";
        public string AgentUrl { get; init; } = "";
        public int ReservedCpu { get; init; }
        public long ReservedMemory { get; init; }
        public int ReservedGpu { get; init; }

        public NodeRecord ToRecord() => new(
            NodeId, Name, Hostname, Addresses,
            new NodeCapacity { CpuCores = CpuCores, MemoryBytes = MemoryBytes, GpuCount = GpuCount, DiskBytes = DiskBytes },
            Labels, AgentVersion, RegisteredAt, LastHeartbeatAt, Schedulable, CordonReason, Draining, Admission,
            NodeRecord.ParseDrivers(Drivers), new NodeResources { CpuMillis = ReservedCpu, MemoryBytes = ReservedMemory, GpuCount = ReservedGpu },
            Status, AgentUrl);
    }
}

/// <summary>Another node already holds this name, or the node id is another node's (a node keeps its name).</summary>
public sealed class NodeNameTakenException(string name, string? nodeId = null) : Platform.ServiceDefaults.Grpc.DuplicateException("NODE_NAME_TAKEN", nodeId is null
    ? $"Node name '{name}' is taken by another node."
    : $"Node id {nodeId} is registered under another name; node '{name}' needs an id of its own.");
