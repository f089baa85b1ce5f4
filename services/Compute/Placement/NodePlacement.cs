using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Placement;

/// <summary>No node can take the workload; the message says why (the explicit node's problem, or what was missing).</summary>
public sealed class NoCapacityException(string message) : NoRoomException("NO_CAPACITY", message);

/// <summary>
/// Chooses a node for a workload inside the caller's transaction and locks it: candidates are admitted, schedulable,
/// Ready nodes with the driver and the selector's labels, best fit first (the least room left over). The chosen node's
/// row stays locked until the caller commits, and its free room is computed again under that lock, so two concurrent
/// placements on one node take turns and the second sees the first's reservation: a node is never over-committed.
/// </summary>
public sealed class NodePlacement(TimeProvider clock, IOptions<NodeLeaseOptions> leases)
{
    public async Task<Guid> ChooseAndLockAsync(NpgsqlTransaction transaction, CreateWorkloadRequest request, Guid? exclude, CancellationToken cancellationToken)
    {
        Guid? explicitNode = request.NodeId == "" ? null : Guid.Parse(request.NodeId);
        var candidates = await PlacementStore.CandidatesAsync(transaction, request, explicitNode, exclude, clock.GetUtcNow() - leases.Value.Duration, cancellationToken);
        if (candidates.Count == 0)
            throw new NoCapacityException(explicitNode is { } id
                ? $"Node {id} cannot take workloads now: it must be registered, admitted, Ready, not cordoned or draining, have the {request.Driver} driver and the selected labels."
                : $"No node can take the workload: none is admitted, Ready, schedulable, has the {request.Driver} driver{(request.NodeSelector.Count > 0 ? " and the selected labels" : "")}.");

        var fitting = candidates.Where(c => Fits(c, request)).OrderBy(c => Leftover(c, request)).ToList();
        foreach (var candidate in fitting)
        {
            var locked = await PlacementStore.LockAndMeasureAsync(transaction, candidate.NodeId, cancellationToken);
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
}
