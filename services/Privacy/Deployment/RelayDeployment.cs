using Grpc.Core;
using Platform.Compute.V1;
using Platform.Onion;
using Platform.Privacy.Relays;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Privacy.Deployment;

/// <summary>
/// Turns the relay role on and off. A chosen node must be one Compute knows and Ready; with none chosen, the best
/// node is the ready, schedulable, admitted node without a relay that has the most CPU not reserved by workloads.
/// The agent on that node starts its relay when it next asks for its role.
/// </summary>
public sealed class RelayDeployment(RelayStore relays, Compute.V1.Compute.ComputeClient compute, TimeProvider clock)
{
    public async Task<(RelayStore.RelayRow Relay, bool Chosen)> DeployAsync(string requestedNode, IReadOnlyList<string> exitPolicy, string caller, CancellationToken cancellationToken)
    {
        var policy = exitPolicy.Count == 0 ? ExitPolicy.Default : ValidatePolicy(exitPolicy);
        var nodes = (await compute.ListNodesAsync(new ListNodesRequest(), cancellationToken: cancellationToken)).Nodes;
        Node node;
        if (requestedNode.Trim() is { Length: > 0 } wanted)
        {
            node = nodes.FirstOrDefault(n => n.Name == wanted || n.NodeId == wanted)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"no node named or with id '{wanted}'"));
            if (node.Status != "Ready") throw new ConflictException("NODE_NOT_READY", $"node {node.Name} is {node.Status}; a relay needs a Ready node");
        }
        else
        {
            var withRelay = (await relays.ListAsync(cancellationToken)).Where(r => r.Enabled).Select(r => r.Node).ToHashSet();
            node = nodes.Where(n => n.Status == "Ready" && n.Schedulable && n.Admission == "admitted" && !withRelay.Contains(n.Name))
                .OrderByDescending(n => n.Capacity.CpuCores * 1000L - (n.Reserved?.CpuMillis ?? 0))
                .ThenBy(n => n.Name, StringComparer.Ordinal)
                .FirstOrDefault() ?? throw new ConflictException("NO_NODE_WITHOUT_RELAY", "every ready, schedulable node already runs a relay");
        }
        var relay = await relays.EnableAsync(node.Name, Guid.Parse(node.NodeId), policy, caller, clock.GetUtcNow(), cancellationToken);
        return (relay, requestedNode.Trim().Length == 0);
    }

    public async Task<RelayStore.RelayRow> RetireAsync(string node, CancellationToken cancellationToken) =>
        await relays.DisableAsync(node, cancellationToken) ?? throw new RpcException(new Status(StatusCode.NotFound, $"node {node} has never had the relay role"));

    static IReadOnlyList<string> ValidatePolicy(IReadOnlyList<string> lines)
    {
        var validation = new RequestValidation();
        for (var i = 0; i < lines.Count; i++)
        {
            try
            {
                ExitPolicy.Parse([lines[i]]);
            }
            catch (FormatException ex)
            {
                validation.Require(false, $"exit_policy[{i}]", ex.Message);
            }
        }
        validation.Require(lines.Count <= 64, "exit_policy", "at most 64 rules");
        validation.ThrowIfInvalid();
        return [.. lines.Select(l => l.Trim())];
    }
}
