using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Nodes;

/// <summary>Per-node views fetched from the node's agent on demand, the health-check action and the resources summary.</summary>
public sealed class NodeInsightService(
    NodeStore nodes, NodeAgentClients agents, ClusterResources resources, IOptions<NodeLeaseOptions> leases, TimeProvider clock)
    : NodeInsight.NodeInsightBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListProcessesResponse> ListNodeProcesses(ListProcessesRequest request, ServerCallContext context) =>
        await agents.CallAsync(await NodeAsync(request.NodeId, context), (client, options) => client.ListProcessesAsync(request, options), context.CancellationToken);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListPortsResponse> ListNodePorts(ListPortsRequest request, ServerCallContext context) =>
        await agents.CallAsync(await NodeAsync(request.NodeId, context), (client, options) => client.ListPortsAsync(request, options), context.CancellationToken);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<SystemStats> GetNodeStats(GetSystemStatsRequest request, ServerCallContext context) =>
        await agents.CallAsync(await NodeAsync(request.NodeId, context), (client, options) => client.GetSystemStatsAsync(request, options), context.CancellationToken);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<RunHealthCheckResponse> RunHealthCheck(RunHealthCheckRequest request, ServerCallContext context)
    {
        var admitted = (await nodes.ListAsync(context.CancellationToken)).Where(n => n.Admission == NodeAdmissions.Admitted).ToList();
        var reports = await Task.WhenAll(admitted.Select(async node =>
        {
            try
            {
                return await agents.CallAsync(node, (client, options) => client.RunHealthChecksAsync(new RunHealthChecksRequest { NodeId = node.NodeId.ToString() }, options), context.CancellationToken);
            }
            catch (RpcException ex)
            {
                var failed = new HealthCheckReport { NodeId = node.NodeId.ToString(), NodeName = node.Name, Status = "fail" };
                failed.Checks.Add(new HealthCheck { Name = "agent_reachable", Status = "fail", Detail = $"{ex.Status.Detail} (node is {node.Status(clock.GetUtcNow(), leases.Value)})" });
                return failed;
            }
        }));
        var response = new RunHealthCheckResponse { Status = reports.Any(r => r.Status == "fail") ? "fail" : reports.Any(r => r.Status == "warn") ? "warn" : "pass" };
        response.Nodes.AddRange(reports);
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<ResourcesSummary> GetResources(GetResourcesRequest request, ServerCallContext context) =>
        resources.SummarizeAsync(context.CancellationToken);

    async Task<NodeRecord> NodeAsync(string id, ServerCallContext context) =>
        await nodes.GetAsync(RequestValidation.RequireGuid(id, "node_id"), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {id} is not registered."));
}
