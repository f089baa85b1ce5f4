using Grpc.Core;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Nodes;

/// <summary>
/// Clients of the nodes' agents at the URLs they registered, one channel per URL, carrying Compute's service token.
/// An agent that registered no URL, or is not Ready, answers FailedPrecondition / Unavailable naming the node.
/// </summary>
public sealed class NodeAgentClients(Platform.ServiceDefaults.Auth.ProcessCredential credential) : IDisposable
{
    readonly PeerChannels channels = new(credential, TimeSpan.FromSeconds(3));

    public NodeAgentApi.NodeAgentApiClient For(NodeRecord node)
    {
        if (node.AgentUrl == "")
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Node {node.Name} registered no agent URL; its agent is older than this API."));
        return new NodeAgentApi.NodeAgentApiClient(channels.For(node.AgentUrl, node.Name));
    }

    /// <summary>Calls the node's agent with a deadline; an agent that cannot be reached is Unavailable, naming the node.</summary>
    public async Task<T> CallAsync<T>(NodeRecord node, Func<NodeAgentApi.NodeAgentApiClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(For(node), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"The agent of node {node.Name} did not answer: {ex.Status.Detail}"));
        }
    }

    public void Dispose() => channels.Dispose();
}
