using Platform.ServiceDefaults.Auth;
using StackExchange.Redis;

namespace Platform.Compute.Nodes;

/// <summary>
/// Compute decides which nodes are rejected, so it keeps the platform's list of revoked agents: a rejection adds the
/// node's name, an admission removes it, and at start the list is made to match the database (Redis may have
/// restarted empty). A Redis that cannot be reached does not undo a rejection: Compute refuses the node itself.
/// </summary>
public sealed class NodeRevocations(AgentRevocations revocations, NodeStore nodes, ILogger<NodeRevocations> logger) : IHostedService
{
    public async Task AdmissionChangedAsync(NodeRecord node)
    {
        try
        {
            if (node.Admission == NodeAdmissions.Rejected) await revocations.RevokeAsync(node.Name);
            else await revocations.RestoreAsync(node.Name);
        }
        catch (RedisException ex)
        {
            logger.LogError(ex, "Node {NodeName} is {Admission}, but the revocation list could not be updated; it will be at the next start", node.Name, node.Admission);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var node in await nodes.ListAsync(cancellationToken)) await AdmissionChangedAsync(node);
        }
        catch (RedisException ex)
        {
            logger.LogWarning(ex, "The revocation list could not be rebuilt at start");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
