using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Nodes;

/// <summary>Node registration, leases, the node list, and what operators do with nodes: admit, cordon, drain.</summary>
public sealed partial class NodeRegistryService(
    NodeStore store, INodeEvacuation evacuation, EventPublisher events, IOptions<NodeLeaseOptions> leaseOptions,
    IOptions<AdmissionOptions> admission, NodeRevocations revocations, TimeProvider clock, ILogger<NodeRegistryService> logger)
    : V1.Compute.ComputeBase
{
    NodeLeaseOptions Leases => leaseOptions.Value;

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<Node> RegisterNode(RegisterNodeRequest request, ServerCallContext context)
    {
        Validate(request);
        AgentBinding.EnsureActsFor(context, request.Name);
        var now = clock.GetUtcNow();
        var node = await store.UpsertAsync(request, admission.Value.IsManual ? NodeAdmissions.Pending : NodeAdmissions.Admitted, now, context.CancellationToken);
        RefuseRejected(node);
        logger.LogInformation("Node {NodeName} ({NodeId}) registered from {Hostname}, admission {Admission}", node.Name, node.NodeId, node.Hostname, node.Admission);
        var message = node.ToMessage(now, Leases);
        await events.PublishAsync("nodes", "node.registered", message);
        return message;
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        var nodeId = RequestValidation.RequireGuid(request.NodeId, "node_id");
        var now = clock.GetUtcNow();
        // Checked before the renewal: another node's agent must not keep a dead node's lease alive.
        var known = await store.GetAsync(nodeId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        AgentBinding.EnsureActsFor(context, known.Name);
        var node = await store.RenewAsync(nodeId, now, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        RefuseRejected(node);
        return new HeartbeatResponse { LeaseExpiresAtMs = node.LeaseExpiresAt(Leases.Duration).ToUnixTimeMilliseconds() };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListNodesResponse> ListNodes(ListNodesRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var response = new ListNodesResponse();
        response.Nodes.AddRange((await store.ListAsync(context.CancellationToken)).Select(n => n.ToMessage(now, Leases)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Node> GetNode(GetNodeRequest request, ServerCallContext context)
    {
        var nodeId = RequestValidation.RequireGuid(request.NodeId, "node_id");
        var node = await store.GetAsync(nodeId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        return node.ToMessage(clock.GetUtcNow(), Leases);
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<Node> CordonNode(NodeActionRequest request, ServerCallContext context) =>
        ChangeAsync(request, "node.cordoned", context, schedulable: false, cordonReason: request.Reason == "" ? "cordoned" : request.Reason);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<Node> UncordonNode(NodeActionRequest request, ServerCallContext context) =>
        ChangeAsync(request, "node.uncordoned", context, schedulable: true, cordonReason: "", draining: false);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<DrainNodeResponse> DrainNode(NodeActionRequest request, ServerCallContext context)
    {
        var node = await ChangeAsync(request, "node.draining", context, schedulable: false, cordonReason: request.Reason == "" ? "draining" : request.Reason, draining: true);
        var (moved, stopped) = await evacuation.DrainAsync(Guid.Parse(node.NodeId), context.Caller(), context.CancellationToken);
        var response = new DrainNodeResponse { Node = node };
        response.MovedWorkloadIds.AddRange(moved);
        response.StoppedWorkloadIds.AddRange(stopped);
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<DiscoverNodesResponse> DiscoverNodes(DiscoverNodesRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var response = new DiscoverNodesResponse();
        response.Nodes.AddRange((await store.ListAsync(context.CancellationToken)).Where(n => n.Admission == NodeAdmissions.Pending).Select(n => n.ToMessage(now, Leases)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Admin)]
    public override Task<Node> AdmitNode(NodeActionRequest request, ServerCallContext context) =>
        ChangeAsync(request, "node.admitted", context, admission: NodeAdmissions.Admitted);

    [Authorize(Policy = PlatformPolicies.Admin)]
    public override Task<Node> RejectNode(NodeActionRequest request, ServerCallContext context) =>
        ChangeAsync(request, "node.rejected", context, admission: NodeAdmissions.Rejected, schedulable: false, cordonReason: request.Reason == "" ? NodeAdmissions.Rejected : request.Reason);

    async Task<Node> ChangeAsync(NodeActionRequest request, string eventType, ServerCallContext context,
        bool? schedulable = null, string? cordonReason = null, bool? draining = null, string? admission = null)
    {
        var nodeId = RequestValidation.RequireGuid(request.NodeId, "node_id");
        new RequestValidation().Require(request.Reason.Length <= 512, "reason", "at most 512 characters").ThrowIfInvalid();
        var node = await store.SetAsync(nodeId, schedulable, cordonReason, draining, admission, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        logger.LogInformation("Node {NodeName} ({NodeId}): {Change} by {Caller}{Reason}", node.Name, node.NodeId, eventType, context.Caller(),
            request.Reason == "" ? "" : $" ({request.Reason})");
        if (admission is not null) await revocations.AdmissionChangedAsync(node);
        var message = node.ToMessage(clock.GetUtcNow(), Leases);
        await events.PublishAsync("nodes", eventType, message);
        return message;
    }

    static void RefuseRejected(NodeRecord node)
    {
        if (node.Admission == NodeAdmissions.Rejected)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Node {node.Name} was rejected by an operator."));
    }


    static void Validate(RegisterNodeRequest request)
    {
        var capacity = request.Capacity;
        new RequestValidation()
            .Require(Guid.TryParse(request.NodeId, out _), "node_id", "must be a UUID")
            .Require(NodeName().IsMatch(request.Name), "name", "must be 1-63 lower-case letters, digits, '-' or '.', starting with a letter or digit")
            .Require(!string.IsNullOrWhiteSpace(request.Hostname) && request.Hostname.Length <= 253, "hostname", "must be 1-253 characters")
            .Require(request.Addresses.Count <= 64, "addresses", "at most 64 addresses")
            .Require(capacity is not null, "capacity", "is required")
            // Bounds past any machine: capacity is counted in thousandths of a core and summed over nodes.
            .Require(capacity is null || capacity.CpuCores is > 0 and <= 100_000, "capacity.cpu_cores", "must be between 1 and 100000")
            .Require(capacity is null || capacity.MemoryBytes is > 0 and <= 1L << 50, "capacity.memory_bytes", "must be between 1 and 2^50 (1 PiB)")
            .Require(capacity is null || capacity.GpuCount is >= 0 and <= 4096, "capacity.gpu_count", "must be between 0 and 4096")
            .Require(capacity is null || capacity.DiskBytes >= 0, "capacity.disk_bytes", "must not be negative")
            .Require(request.Labels.Count <= 64 && request.Labels.All(l => l.Key.Length is > 0 and <= 63 && l.Value.Length <= 256), "labels", "at most 64 labels; keys 1-63 characters, values up to 256")
            .Require(!string.IsNullOrWhiteSpace(request.AgentVersion), "agent_version", "is required")
            .Require(request.AgentUrl == "" || (Uri.TryCreate(request.AgentUrl, UriKind.Absolute, out var agentUrl) && agentUrl.Scheme is "http" or "https"), "agent_url", "must be an absolute http or https URL")
            .Require(request.Drivers.Count <= 16 && request.Drivers.All(d => d.Name.Length is > 0 and <= 32), "drivers", "at most 16, each named in 1-32 characters")
            .ThrowIfInvalid();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,62}$")]
    private static partial Regex NodeName();
}
