using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Compute.Nodes;
using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>No node can take the workload; the message says why (the explicit node's problem, or what was missing).</summary>
public sealed class NoCapacityException(string message) : Exception(message);

/// <summary>
/// Chooses a node for a workload inside the caller's transaction and locks it: candidates are admitted, schedulable,
/// Ready nodes with the driver and the selector's labels, best fit first (the least room left over). The chosen node's
/// row stays locked until the caller commits, and its free room is computed again under that lock, so two concurrent
/// placements on one node take turns and the second sees the first's reservation: a node is never over-committed.
/// </summary>
public sealed class Placement(TimeProvider clock, Microsoft.Extensions.Options.IOptions<NodeLeaseOptions> leases)
{
    sealed record Candidate(Guid NodeId, string Name, long FreeCpu, long FreeMemory, long FreeGpu);

    public async Task<Guid> ChooseAndLockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CreateWorkloadRequest request,
        Guid? exclude, CancellationToken cancellationToken)
    {
        Guid? explicitNode = request.NodeId == "" ? null : Guid.Parse(request.NodeId);
        var candidates = await CandidatesAsync(connection, transaction, request, explicitNode, exclude, cancellationToken);
        if (candidates.Count == 0)
            throw new NoCapacityException(explicitNode is { } id
                ? $"Node {id} cannot take workloads now: it must be registered, admitted, Ready, not cordoned or draining, have the {request.Driver} driver and the selected labels."
                : $"No node can take the workload: none is admitted, Ready, schedulable, has the {request.Driver} driver{(request.NodeSelector.Count > 0 ? " and the selected labels" : "")}.");

        var fitting = candidates.Where(c => Fits(c, request)).OrderBy(c => Leftover(c, request)).ToList();
        foreach (var candidate in fitting)
        {
            var locked = await LockAndMeasureAsync(connection, transaction, candidate.NodeId, cancellationToken);
            if (locked is not null && Fits(locked, request)) return candidate.NodeId;
        }
        var best = candidates.OrderByDescending(c => c.FreeMemory).First();
        throw new NoCapacityException(
            $"No node has room for {request.CpuMillis} millicores, {request.MemoryBytes} bytes of memory and {request.GpuCount} GPUs; " +
            $"the roomiest, {best.Name}, has {best.FreeCpu} millicores, {best.FreeMemory} bytes and {best.FreeGpu} GPUs free.");
    }

    static bool Fits(Candidate node, CreateWorkloadRequest request) =>
        node.FreeCpu >= request.CpuMillis && node.FreeMemory >= request.MemoryBytes && node.FreeGpu >= request.GpuCount;

    /// <summary>Best fit: the fraction of the node's free CPU and memory the workload would leave unused.</summary>
    static double Leftover(Candidate node, CreateWorkloadRequest request) =>
        (node.FreeCpu - request.CpuMillis) / (double)Math.Max(1, node.FreeCpu) + (node.FreeMemory - request.MemoryBytes) / (double)Math.Max(1, node.FreeMemory);

    async Task<List<Candidate>> CandidatesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CreateWorkloadRequest request,
        Guid? explicitNode, Guid? exclude, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT n.node_id, n.name, n.cpu_cores * 1000 - r.cpu, n.memory_bytes - r.memory, n.gpu_count - r.gpu
            FROM compute.nodes n {NodeStore.ReservedJoin}
            WHERE n.admission = 'admitted' AND n.schedulable AND NOT n.draining AND n.last_heartbeat_at > $1
              AND ($2::uuid IS NULL OR n.node_id = $2) AND ($3::uuid IS NULL OR n.node_id <> $3)
              AND n.labels @> $4 AND n.drivers @> $5
            """, connection, transaction);
        command.Parameters.Add(new() { Value = clock.GetUtcNow() - leases.Value.Duration });
        command.Parameters.Add(new() { Value = (object?)explicitNode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = (object?)exclude ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(request.NodeSelector.ToDictionary()), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(new[] { new { name = request.Driver, available = true } }), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var candidates = new List<Candidate>();
        while (await reader.ReadAsync(cancellationToken))
            candidates.Add(new(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt32(4)));
        return candidates;
    }

    static async Task<Candidate?> LockAndMeasureAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid nodeId, CancellationToken cancellationToken)
    {
        await using (var lockNode = new NpgsqlCommand("SELECT 1 FROM compute.nodes WHERE node_id = $1 FOR UPDATE", connection, transaction))
        {
            lockNode.Parameters.Add(new() { Value = nodeId });
            await lockNode.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var measure = new NpgsqlCommand($"""
            SELECT n.node_id, n.name, n.cpu_cores * 1000 - r.cpu, n.memory_bytes - r.memory, n.gpu_count - r.gpu
            FROM compute.nodes n {NodeStore.ReservedJoin} WHERE n.node_id = $1
            """, connection, transaction);
        measure.Parameters.Add(new() { Value = nodeId });
        await using var reader = await measure.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt32(4))
            : null;
    }
}
