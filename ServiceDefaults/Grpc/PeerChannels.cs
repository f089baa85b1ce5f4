using System.Collections.Concurrent;
using Grpc.Net.Client;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// gRPC channels to peers known by URL (a NodeAgent's API, registered at run time rather than discovered), one per URL
/// and kept, each carrying this process's own token for NodeAgents (audience <c>node-agent</c>): whatever a node does
/// with a token it receives, it opens no other service.
/// </summary>
public sealed class PeerChannels(ProcessCredential credential, TimeSpan connectTimeout) : IDisposable
{
    readonly ConcurrentDictionary<string, GrpcChannel> channels = new();

    public GrpcChannel For(string url) => channels.GetOrAdd(url, address => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        HttpHandler = new BearerTokenHandler(credential, PlatformTokens.NodeAgentAudience) { InnerHandler = new SocketsHttpHandler { ConnectTimeout = connectTimeout } },
    }));

    public void Dispose()
    {
        foreach (var channel in channels.Values) channel.Dispose();
    }
}
