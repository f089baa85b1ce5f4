using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Nodes;

/// <summary>The <c>compute.nodes</c> table, with each node's reserved resources summed from its workloads.</summary>
public sealed class NodeStore(NpgsqlDataSource db)
{
    const string Columns = """
        n.node_id, n.name, n.hostname, n.addresses, n.cpu_cores, n.memory_bytes, n.gpu_count, n.disk_bytes, n.labels::text,
        n.agent_version, n.registered_at, n.last_heartbeat_at, n.schedulable, n.cordon_reason, n.draining, n.admission,
        n.drivers::text, n.status, n.agent_url
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

    const string Select = $"SELECT {Columns}, r.cpu, r.memory, r.gpu FROM compute.nodes n {ReservedJoin}";

    /// <summary>
    /// Inserts or refreshes a node. Safe under concurrent registrations: the primary key makes it one upsert, and the
    /// unique name constraint rejects a second node claiming a taken name, and an id keeps its name, so no agent can
    /// take over another node's record (<see cref="NodeNameTakenException"/>). A new
    /// node starts with <paramref name="admission"/>; a known one keeps its admission, cordon and drain.
    /// </summary>
    public async Task<NodeRecord> UpsertAsync(RegisterNodeRequest request, string admission, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            WITH upserted AS (
                INSERT INTO compute.nodes AS n (node_id, name, hostname, addresses, cpu_cores, memory_bytes, gpu_count, disk_bytes, labels,
                                                agent_version, registered_at, last_heartbeat_at, admission, drivers, status, status_changed_at, agent_url)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, 'Ready', $11, $14)
                ON CONFLICT (node_id) DO UPDATE SET
                    name = EXCLUDED.name, hostname = EXCLUDED.hostname, addresses = EXCLUDED.addresses,
                    cpu_cores = EXCLUDED.cpu_cores, memory_bytes = EXCLUDED.memory_bytes, gpu_count = EXCLUDED.gpu_count,
                    disk_bytes = EXCLUDED.disk_bytes, labels = EXCLUDED.labels, agent_version = EXCLUDED.agent_version,
                    last_heartbeat_at = EXCLUDED.last_heartbeat_at, drivers = EXCLUDED.drivers, agent_url = EXCLUDED.agent_url
                -- A node keeps its name: an agent bound to another name cannot take over this id's record.
                WHERE n.name = EXCLUDED.name
                RETURNING *)
            SELECT {Columns}, r.cpu, r.memory, r.gpu FROM upserted n {ReservedJoin}
            """);
        var parameters = command.Parameters;
        parameters.Add(new() { Value = Guid.Parse(request.NodeId) });
        parameters.Add(new() { Value = request.Name });
        parameters.Add(new() { Value = request.Hostname });
        parameters.Add(new() { Value = request.Addresses.ToArray() });
        parameters.Add(new() { Value = request.Capacity.CpuCores });
        parameters.Add(new() { Value = request.Capacity.MemoryBytes });
        parameters.Add(new() { Value = request.Capacity.GpuCount });
        parameters.Add(new() { Value = request.Capacity.DiskBytes });
        parameters.Add(new() { Value = JsonSerializer.Serialize(request.Labels.ToDictionary()), NpgsqlDbType = NpgsqlDbType.Jsonb });
        parameters.Add(new() { Value = request.AgentVersion });
        parameters.Add(new() { Value = now });
        parameters.Add(new() { Value = admission });
        parameters.Add(new() { Value = NodeRecord.DriversJson(request.Drivers), NpgsqlDbType = NpgsqlDbType.Jsonb });
        parameters.Add(new() { Value = request.AgentUrl });
        try
        {
            return await ReadSingleAsync(command, cancellationToken) ?? throw new NodeNameTakenException(request.Name, request.NodeId);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "nodes_name_unique")
        {
            throw new NodeNameTakenException(request.Name);
        }
    }

    /// <summary>Renews the lease; null when no such node is registered.</summary>
    public async Task<NodeRecord?> RenewAsync(Guid nodeId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await UpdateAsync(nodeId, "last_heartbeat_at = $2", now, cancellationToken);

    /// <summary>Sets the scheduling flags of a node (cordon, drain, admission); null when no such node is registered.</summary>
    public async Task<NodeRecord?> SetAsync(Guid nodeId, bool? schedulable, string? cordonReason, bool? draining, string? admission, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            WITH updated AS (
                UPDATE compute.nodes SET schedulable = coalesce($2, schedulable), cordon_reason = coalesce($3, cordon_reason),
                                         draining = coalesce($4, draining), admission = coalesce($5, admission)
                WHERE node_id = $1 RETURNING *)
            SELECT {Columns}, r.cpu, r.memory, r.gpu FROM updated n {ReservedJoin}
            """);
        command.Parameters.Add(new() { Value = nodeId });
        command.Parameters.Add(new() { Value = (object?)schedulable ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(new() { Value = (object?)cordonReason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)draining ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(new() { Value = (object?)admission ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>Records a status the monitor observed, if it differs from the recorded one; true when it changed.</summary>
    public async Task<bool> RecordStatusAsync(Guid nodeId, string status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "UPDATE compute.nodes SET status = $2, status_changed_at = $3 WHERE node_id = $1 AND status <> $2");
        command.Parameters.Add(new() { Value = nodeId });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<NodeRecord?> GetAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"{Select} WHERE n.node_id = $1");
        command.Parameters.Add(new() { Value = nodeId });
        return await ReadSingleAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"{Select} ORDER BY n.name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var nodes = new List<NodeRecord>();
        while (await reader.ReadAsync(cancellationToken))
            nodes.Add(Read(reader));
        return nodes;
    }

    async Task<NodeRecord?> UpdateAsync(Guid nodeId, string set, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            WITH updated AS (UPDATE compute.nodes SET {set} WHERE node_id = $1 RETURNING *)
            SELECT {Columns}, r.cpu, r.memory, r.gpu FROM updated n {ReservedJoin}
            """);
        command.Parameters.Add(new() { Value = nodeId });
        command.Parameters.Add(new() { Value = now });
        return await ReadSingleAsync(command, cancellationToken);
    }

    static async Task<NodeRecord?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    static NodeRecord Read(NpgsqlDataReader reader) => new(
        NodeId: reader.GetGuid(0),
        Name: reader.GetString(1),
        Hostname: reader.GetString(2),
        Addresses: reader.GetFieldValue<string[]>(3),
        Capacity: new NodeCapacity
        {
            CpuCores = reader.GetInt32(4),
            MemoryBytes = reader.GetInt64(5),
            GpuCount = reader.GetInt32(6),
            DiskBytes = reader.GetInt64(7),
        },
        Labels: JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(8)) ?? [],
        AgentVersion: reader.GetString(9),
        RegisteredAt: reader.GetFieldValue<DateTimeOffset>(10),
        LastHeartbeatAt: reader.GetFieldValue<DateTimeOffset>(11),
        Schedulable: reader.GetBoolean(12),
        CordonReason: reader.GetString(13),
        Draining: reader.GetBoolean(14),
        Admission: reader.GetString(15),
        Drivers: NodeRecord.ParseDrivers(reader.GetString(16)),
        RecordedStatus: reader.GetString(17),
        AgentUrl: reader.GetString(18),
        Reserved: new NodeResources { CpuMillis = reader.GetInt32(19), MemoryBytes = reader.GetInt64(20), GpuCount = reader.GetInt32(21) });
}

/// <summary>Another node already holds this name, or the node id is another node's (a node keeps its name).</summary>
public sealed class NodeNameTakenException(string name, string? nodeId = null) : Platform.ServiceDefaults.Grpc.DuplicateException("NODE_NAME_TAKEN", nodeId is null
    ? $"Node name '{name}' is taken by another node."
    : $"Node id {nodeId} is registered under another name; node '{name}' needs an id of its own.");
