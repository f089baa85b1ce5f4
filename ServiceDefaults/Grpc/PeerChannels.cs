using System.Collections.Concurrent;
using Grpc.Net.Client;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// gRPC channels to NodeAgents known by URL (registered at run time rather than discovered), one per node and URL and
/// kept, each carrying this process's own token for that node alone (audience <c>node-agent:{name}</c>): whatever a
/// node does with a token it receives, it opens no service and no other node.
/// </summary>
public sealed class PeerChannels(ProcessCredential credential, TimeSpan connectTimeout) : IDisposable
{
    readonly ConcurrentDictionary<(string Url, string Node), GrpcChannel> channels = new();

    public GrpcChannel For(string url, string nodeName) => channels.GetOrAdd((url, nodeName), key => GrpcChannel.ForAddress(key.Url, new GrpcChannelOptions
    {
        HttpHandler = new BearerTokenHandler(credential, PlatformTokens.NodeAgentAudience(key.Node)) { InnerHandler = new SocketsHttpHandler { ConnectTimeout = connectTimeout } },
    }));

    public void Dispose()
    {
        foreach (var channel in channels.Values) channel.Dispose();
    }
}
