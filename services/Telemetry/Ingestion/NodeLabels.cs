using System.Security.Claims;
using Grpc.Core;
using Platform.ServiceDefaults.Auth;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Ingestion;

/// <summary>
/// The workloads' usage series (<c>workload_*</c>) and the onion relays' (<c>relay_*</c>) are what nodes are paid for
/// (Tokenomics' reward epochs), by their <c>node</c> label. So an agent's token may report them only for the nodes it
/// acts for (a node's agent registers under the node's name): a batch claiming another node's work is refused whole
/// (PERMISSION_DENIED), as one for another agent is. Other series keep whatever labels their agent gives them (a Prometheus that federates many
/// hosts, say); services and operators may push anything.
/// </summary>
public static class NodeLabels
{
    static readonly string[] PaidPrefixes = ["workload_", "relay_"];

    public static void EnsureCallerMayClaim(ClaimsPrincipal caller, SampleBatch batch)
    {
        if (!caller.IsInRole("agent")) return;
        foreach (var sample in batch.Samples)
            if (PaidPrefixes.Any(p => sample.Name.StartsWith(p, StringComparison.Ordinal)) && (!sample.Labels.TryGetValue("node", out var node) || !Callers.ActsFor(caller, node)))
                throw new RpcException(new Status(StatusCode.PermissionDenied,
                    $"This token may not report paid work for node '{sample.Labels.GetValueOrDefault("node", "")}' (sample {sample.Name}): only that node's agent."));
    }
}
