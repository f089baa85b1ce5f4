namespace Platform.Compute.Nodes;

/// <summary>
/// What happens to a node's workloads when it goes Down or is drained. Nodes only say that it happened; the workload
/// side (Evacuation) decides where each workload goes, so this folder never depends on the workloads.
/// </summary>
public interface INodeEvacuation
{
    /// <summary>The node is Down (called every monitor round while it stays Down: it must be idempotent).</summary>
    Task NodeDownAsync(Guid nodeId, CancellationToken cancellationToken);

    /// <summary>The node is draining: the ids of the workloads moved to other nodes and of those stopped.</summary>
    Task<(IReadOnlyList<string> Moved, IReadOnlyList<string> Stopped)> DrainAsync(Guid nodeId, string requestedBy, CancellationToken cancellationToken);
}
