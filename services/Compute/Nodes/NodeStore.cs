using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Nodes;

/// <summary>The <c>compute.nodes</c> table.</summary>
public sealed class NodeStore(NpgsqlDataSource db)
{
    const string Columns = "node_id, name, hostname, addresses, cpu_cores, memory_bytes, gpu_count, disk_bytes, labels, agent_version, registered_at, last_heartbeat_at";

    /// <summary>
    /// Inserts or refreshes a node. Safe under concurrent registrations: the primary key makes it one upsert, and the
    /// unique name constraint rejects a second node claiming a taken name (<see cref="NodeNameTakenException"/>).
    /// </summary>
    public async Task<NodeRecord> UpsertAsync(RegisterNodeRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            INSERT INTO compute.nodes ({Columns})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
            ON CONFLICT (node_id) DO UPDATE SET
                name = EXCLUDED.name, hostname = EXCLUDED.hostname, addresses = EXCLUDED.addresses,
                cpu_cores = EXCLUDED.cpu_cores, memory_bytes = EXCLUDED.memory_bytes, gpu_count = EXCLUDED.gpu_count,
                disk_bytes = EXCLUDED.disk_bytes, labels = EXCLUDED.labels, agent_version = EXCLUDED.agent_version,
                last_heartbeat_at = EXCLUDED.last_heartbeat_at
            RETURNING {Columns}
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
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return Read(reader);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "nodes_name_unique")
        {
            throw new NodeNameTakenException(request.Name);
        }
    }

    /// <summary>Renews the lease; null when no such node is registered.</summary>
    public async Task<NodeRecord?> RenewAsync(Guid nodeId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"UPDATE compute.nodes SET last_heartbeat_at = $2 WHERE node_id = $1 RETURNING {Columns}");
        command.Parameters.Add(new() { Value = nodeId });
        command.Parameters.Add(new() { Value = now });
        return await ReadSingleAsync(command, cancellationToken);
    }

    public async Task<NodeRecord?> GetAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM compute.nodes WHERE node_id = $1");
        command.Parameters.Add(new() { Value = nodeId });
        return await ReadSingleAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM compute.nodes ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var nodes = new List<NodeRecord>();
        while (await reader.ReadAsync(cancellationToken))
            nodes.Add(Read(reader));
        return nodes;
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
        LastHeartbeatAt: reader.GetFieldValue<DateTimeOffset>(11));
}

/// <summary>Another node already holds this name.</summary>
public sealed class NodeNameTakenException(string name) : Exception($"Node name '{name}' is taken by another node.");
