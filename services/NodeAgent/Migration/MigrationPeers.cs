using Grpc.Core;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Migration;

/// <summary>Clients of other nodes' agents, one channel per node, carrying this agent's token for that node only.</summary>
public sealed class MigrationPeers(Platform.ServiceDefaults.Auth.ProcessCredential credential) : IDisposable
{
    readonly PeerChannels channels = new(credential, TimeSpan.FromSeconds(5));

    public RemoteBlockReceiver Receiver(string agentUrl, string nodeName, Guid migrationId)
    {
        if (agentUrl == "") throw new InvalidOperationException("the target node's agent registered no URL to reach it at");
        return new RemoteBlockReceiver(new MigrationReceiver.MigrationReceiverClient(channels.For(agentUrl, nodeName)), migrationId.ToString());
    }

    public void Dispose() => channels.Dispose();
}

/// <summary>The target agent as a block receiver: each call one RPC with a deadline.</summary>
public sealed class RemoteBlockReceiver(MigrationReceiver.MigrationReceiverClient client, string migrationId) : IBlockReceiver
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    CallOptions Options(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);

    public async Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        var request = new FindMissingBlocksRequest { MigrationId = migrationId };
        request.Hashes.AddRange(hashes);
        return (await client.FindMissingBlocksAsync(request, Options(cancellationToken))).Missing.ToHashSet();
    }

    public async Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken) =>
        await client.PutBlockAsync(new PutBlockRequest { MigrationId = migrationId, Hash = hash, Compressed = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(compressed) },
            Options(cancellationToken));

    public async Task CommitAsync(FolderManifest manifest, bool partial, CancellationToken cancellationToken)
    {
        var request = new CommitFolderRequest { MigrationId = migrationId, Partial = partial };
        request.Files.AddRange(manifest.ToMessages());
        await client.CommitFolderAsync(request, Options(cancellationToken));
    }

    public async Task DiscardAsync(CancellationToken cancellationToken) =>
        await client.DiscardMigrationAsync(new DiscardMigrationRequest { MigrationId = migrationId }, Options(cancellationToken));
}
