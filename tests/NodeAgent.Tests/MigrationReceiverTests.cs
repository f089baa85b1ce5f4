using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Migration;
using Platform.NodeAgent.V1;
using Platform.TestSupport;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// The target's receiver, called as a hostile agent would: blocks are taken only from the source Compute names for an
/// unfinished migration to this node, and only as much as one migration and the node's staging may hold.
/// </summary>
public sealed class MigrationReceiverTests : IDisposable
{
    readonly string state = Directory.CreateTempSubdirectory("receiver-").FullName;
    static readonly Guid Active = Guid.NewGuid(), Finished = Guid.NewGuid(), Elsewhere = Guid.NewGuid();
    readonly MigrationStaging staging;
    readonly MigrationReceiverService receiver;

    public MigrationReceiverTests()
    {
        var identity = new NodeIdentity(Guid.NewGuid(), "node-b", "host", state, "test");
        staging = new MigrationStaging(identity, Options.Create(new MigrationStagingOptions { MaxBytesPerMigration = 3 << 20, MaxFilesPerMigration = 2, QuotaBytes = 5 << 20 }),
            NullLogger<MigrationStaging>.Instance);
        var compute = new WorkloadAssignments.WorkloadAssignmentsClient(new FakeCompute());
        receiver = new MigrationReceiverService(staging, new IncomingMigrations(compute, identity, TimeProvider.System));
    }

    public void Dispose() => Directory.Delete(state, recursive: true);

    static (string Hash, PutBlockRequest Request) Block(Guid migration, int size)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        using var compressor = new ZstdSharp.Compressor(1);
        return (hash, new PutBlockRequest { MigrationId = migration.ToString(), Hash = hash, Compressed = Google.Protobuf.ByteString.CopyFrom(compressor.Wrap(data)) });
    }

    static TestServerCallContext As(string node) => new(node, "agent");

    string StagingOf(Guid migration) => Path.Combine(state, "migrations", migration.ToString());

    [Fact]
    public async Task Only_the_source_of_an_unfinished_migration_to_this_node_may_write_to_it()
    {
        var (_, block) = Block(Active, 1000);

        var thirdNode = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(block, As("node-c")));
        var service = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(block, new TestServerCallContext("scheduler", "service")));
        var finished = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(Block(Finished, 1000).Request, As("node-a")));
        var elsewhere = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(Block(Elsewhere, 1000).Request, As("node-a")));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(Block(Guid.NewGuid(), 1000).Request, As("node-a")));

        Assert.All([thirdNode, service, finished, elsewhere, unknown], e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));
        Assert.Contains("node-a", thirdNode.Status.Detail);
        Assert.False(Directory.Exists(StagingOf(Active)));
        await receiver.PutBlock(block, As("node-a"));
        Assert.Single(Directory.GetFiles(Path.Combine(StagingOf(Active), "blocks")));
        await receiver.DiscardMigration(new DiscardMigrationRequest { MigrationId = Finished.ToString() }, As("node-a")); // the sender may tidy up after the end
    }

    [Fact]
    public async Task A_migration_brings_no_more_than_its_cap_and_all_together_no_more_than_the_nodes_staging_quota()
    {
        var first = Block(Active, 1 << 20).Request;
        await receiver.PutBlock(first, As("node-a"));
        await receiver.PutBlock(Block(Active, 1 << 20).Request, As("node-a"));
        await receiver.PutBlock(Block(Active, 1 << 20).Request, As("node-a"));
        await receiver.PutBlock(first, As("node-a")); // a resend after a dropped connection costs nothing again

        var overCap = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(Block(Active, 1 << 20).Request, As("node-a")));
        var oversized = await Assert.ThrowsAsync<RpcException>(() => receiver.PutBlock(Block(Active, 17 << 20).Request, As("node-a")));

        Assert.Equal(StatusCode.ResourceExhausted, overCap.StatusCode);
        Assert.Contains("at most 3145728 bytes", overCap.Status.Detail);
        Assert.Equal(StatusCode.DataLoss, oversized.StatusCode);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(StagingOf(Active), "blocks")).Length);
    }

    [Fact]
    public async Task A_manifest_over_the_caps_or_naming_a_path_twice_or_a_block_over_16_MiB_is_refused_and_builds_nothing()
    {
        static FolderFile File(string path, long size, params int[] blocks)
        {
            var file = new FolderFile { Path = path, Size = size, Mode = 0x1A4, Sha256 = new string('a', 64) };
            foreach (var length in blocks) { file.BlockHashes.Add(new string('b', 64)); file.BlockLengths.Add(length); }
            return file;
        }
        CommitFolderRequest Commit(params FolderFile[] files) { var request = new CommitFolderRequest { MigrationId = Active.ToString() }; request.Files.AddRange(files); return request; }

        var tooMany = await Assert.ThrowsAsync<RpcException>(() => receiver.CommitFolder(Commit(File("a", 1, 1), File("b", 1, 1), File("c", 1, 1)), As("node-a")));
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => receiver.CommitFolder(Commit(File("a", 4L << 20, 4 << 20)), As("node-a")));
        var bigBlock = await Assert.ThrowsAsync<RpcException>(() => receiver.CommitFolder(Commit(File("a", 17L << 20, 17 << 20)), As("node-a")));
        var twice = await Assert.ThrowsAsync<RpcException>(() => receiver.CommitFolder(Commit(File("a", 1, 1), File("a/b", 1, 1)), As("node-a")));

        Assert.Equal([StatusCode.ResourceExhausted, StatusCode.ResourceExhausted, StatusCode.InvalidArgument, StatusCode.InvalidArgument],
            [tooMany.StatusCode, tooLarge.StatusCode, bigBlock.StatusCode, twice.StatusCode]);
        Assert.False(Directory.Exists(Path.Combine(StagingOf(Active), "folder")));
    }

    [Fact]
    public async Task Partial_commits_count_together_against_the_file_cap()
    {
        static FolderFile Empty(string path) => new() { Path = path, Size = 0, Mode = 0x1A4, Sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };
        CommitFolderRequest Partial(params FolderFile[] files) { var request = new CommitFolderRequest { MigrationId = Active.ToString(), Partial = true }; request.Files.AddRange(files); return request; }

        await receiver.CommitFolder(Partial(Empty("a"), Empty("b")), As("node-a"));
        var third = await Assert.ThrowsAsync<RpcException>(() => receiver.CommitFolder(Partial(Empty("c")), As("node-a")));
        await receiver.CommitFolder(Partial(Empty("a")), As("node-a"));  // a file sent again is not one more

        Assert.Equal(StatusCode.ResourceExhausted, third.StatusCode);
        Assert.Equal(["a", "b"], Directory.GetFiles(Path.Combine(StagingOf(Active), "folder")).Select(Path.GetFileName).Order());
    }

    /// <summary>Compute's answers: <see cref="Active"/> comes from node-a to this node, <see cref="Finished"/> came, <see cref="Elsewhere"/> goes to another node.</summary>
    sealed class FakeCompute : CallInvoker
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            var asked = Guid.Parse(((GetIncomingMigrationRequest)(object)request).MigrationId);
            Task<TResponse> answer = asked == Active || asked == Finished
                ? Task.FromResult((TResponse)(object)new IncomingMigration { MigrationId = asked.ToString(), SourceNodeName = "node-a", Finished = asked == Finished })
                : Task.FromException<TResponse>(new RpcException(new Status(StatusCode.NotFound, "no such migration to this node")));
            return new AsyncUnaryCall<TResponse>(answer, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();
        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();
        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }
}
