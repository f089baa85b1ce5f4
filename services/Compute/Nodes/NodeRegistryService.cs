using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Nodes;

/// <summary>Node registration, leases and the node list.</summary>
public sealed partial class NodeRegistryService(
    NodeStore store, EventPublisher events, IOptions<NodeLeaseOptions> leaseOptions, TimeProvider clock, ILogger<NodeRegistryService> logger)
    : V1.Compute.ComputeBase
{
    TimeSpan Lease => leaseOptions.Value.Duration;

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<Node> RegisterNode(RegisterNodeRequest request, ServerCallContext context)
    {
        Validate(request);
        var now = clock.GetUtcNow();
        NodeRecord node;
        try
        {
            node = await store.UpsertAsync(request, now, context.CancellationToken);
        }
        catch (NodeNameTakenException ex)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, ex.Message));
        }
        logger.LogInformation("Node {NodeName} ({NodeId}) registered from {Hostname}", node.Name, node.NodeId, node.Hostname);
        var message = node.ToMessage(now, Lease);
        await events.PublishAsync("nodes", "node.registered", message);
        return message;
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        var nodeId = RequestValidation.RequireGuid(request.NodeId, "node_id");
        var now = clock.GetUtcNow();
        var node = await store.RenewAsync(nodeId, now, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        return new HeartbeatResponse { LeaseExpiresAtMs = node.LeaseExpiresAt(Lease).ToUnixTimeMilliseconds() };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListNodesResponse> ListNodes(ListNodesRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var response = new ListNodesResponse();
        response.Nodes.AddRange((await store.ListAsync(context.CancellationToken)).Select(n => n.ToMessage(now, Lease)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Node> GetNode(GetNodeRequest request, ServerCallContext context)
    {
        var nodeId = RequestValidation.RequireGuid(request.NodeId, "node_id");
        var node = await store.GetAsync(nodeId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        return node.ToMessage(clock.GetUtcNow(), Lease);
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
            .Require(capacity is null || capacity.CpuCores > 0, "capacity.cpu_cores", "must be positive")
            .Require(capacity is null || capacity.MemoryBytes > 0, "capacity.memory_bytes", "must be positive")
            .Require(capacity is null || capacity.GpuCount >= 0, "capacity.gpu_count", "must not be negative")
            .Require(capacity is null || capacity.DiskBytes >= 0, "capacity.disk_bytes", "must not be negative")
            .Require(request.Labels.Count <= 64 && request.Labels.All(l => l.Key.Length is > 0 and <= 63 && l.Value.Length <= 256), "labels", "at most 64 labels; keys 1-63 characters, values up to 256")
            .Require(!string.IsNullOrWhiteSpace(request.AgentVersion), "agent_version", "is required")
            .ThrowIfInvalid();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,62}$")]
    private static partial Regex NodeName();
}
