using System.Text.Json;
using Dapper;
using Npgsql;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Compute.Placement;

/// <summary>A node with the room it has left: its capacity less what its workloads and the migrations to it hold.</summary>
public sealed record Candidate(Guid NodeId, string Name, long FreeCpu, long FreeMemory, long FreeGpu);

/// <summary>What placement reads of <c>compute.nodes</c>, inside the placing transaction.</summary>
internal static class PlacementStore
{
    const string Free = "n.node_id, n.name, (n.cpu_cores::bigint * 1000 - r.cpu) AS free_cpu, n.memory_bytes - r.memory AS free_memory, (n.gpu_count - r.gpu)::bigint AS free_gpu";

    /// <summary>Admitted, schedulable nodes Ready since <paramref name="readySince"/>, with the driver and the selector's labels.</summary>
    public static async Task<List<Candidate>> CandidatesAsync(NpgsqlTransaction transaction, CreateWorkloadRequest request,
        Guid? explicitNode, Guid? exclude, DateTimeOffset readySince, CancellationToken cancellationToken) =>
        [.. await transaction.Connection!.QueryAsync<Candidate>(transaction.In($"""
            SELECT {Free} FROM compute.nodes n {NodeStore.ReservedJoin}
            WHERE n.admission = 'admitted' AND n.schedulable AND NOT n.draining AND n.last_heartbeat_at > @readySince
              AND (@explicitNode::uuid IS NULL OR n.node_id = @explicitNode) AND (@exclude::uuid IS NULL OR n.node_id <> @exclude)
              AND n.labels @> @selector::jsonb AND n.drivers @> @driver::jsonb
            """, new
        {
            readySince,
            explicitNode,
            exclude,
            selector = request.NodeSelector.ToDictionary(),
            driver = JsonSerializer.Serialize(new[] { new { name = request.Driver, available = true } }),
        }, cancellationToken))];

    /// <summary>Locks the node's row until the caller commits and measures its room again under that lock.</summary>
    public static async Task<Candidate?> LockAndMeasureAsync(NpgsqlTransaction transaction, Guid nodeId, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        await connection.ExecuteAsync(transaction.In("SELECT 1 FROM compute.nodes WHERE node_id = @nodeId FOR UPDATE", new { nodeId }, cancellationToken));
        return await connection.QuerySingleOrDefaultAsync<Candidate>(transaction.In(
            $"SELECT {Free} FROM compute.nodes n {NodeStore.ReservedJoin} WHERE n.node_id = @nodeId", new { nodeId }, cancellationToken));
    }
}
