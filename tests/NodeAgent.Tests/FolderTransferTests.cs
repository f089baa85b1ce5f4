using Platform.NodeAgent.Migration;

namespace Platform.NodeAgent.Tests;

/// <summary>Delta folder transfers between two folders on this machine, with a receiver that may drop the connection.</summary>
public sealed class FolderTransferTests : IDisposable
{
    const int Block = 64 * 1024;
    readonly string root = Directory.CreateTempSubdirectory("transfer-").FullName;
    string Source => Path.Combine(root, "source");
    string Store => Path.Combine(root, "store");
    string Target => Path.Combine(root, "target");

    public FolderTransferTests()
    {
        Directory.CreateDirectory(Path.Combine(Source, "disk"));
        var random = new Random(7);
        var data = new byte[40 * Block];
        random.NextBytes(data.AsSpan(0, 20 * Block)); // half random, half compressible
        File.WriteAllBytes(Path.Combine(Source, "disk", "image.raw"), data);
        File.WriteAllText(Path.Combine(Source, "config.json"), "{\"memory\": 512}");
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    Task<TransferResult> SendAsync(IBlockReceiver receiver) =>
        FolderTransfer.SendAsync(Source, receiver, new TransferOptions(BlockSize: Block), null, CancellationToken.None);

    void AssertSameFolders()
    {
        foreach (var file in Directory.EnumerateFiles(Source, "*", SearchOption.AllDirectories))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(Target, Path.GetRelativePath(Source, file))));
        Assert.Equal(Directory.EnumerateFiles(Source, "*", SearchOption.AllDirectories).Count(), Directory.EnumerateFiles(Target, "*", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public async Task A_second_round_sends_only_the_changed_blocks_compressed()
    {
        var first = await SendAsync(new BlockStoreReceiver(Store, Target));
        AssertSameFolders();
        Assert.True(first.BytesSent < first.BytesTotal, "the zero half compresses");

        // 2 of 40 blocks change (5%).
        using (var image = new FileStream(Path.Combine(Source, "disk", "image.raw"), FileMode.Open, FileAccess.Write))
            foreach (var block in new[] { 3, 31 })
            {
                image.Seek(block * (long)Block + 100, SeekOrigin.Begin);
                image.Write(Guid.NewGuid().ToByteArray());
            }
        var second = await SendAsync(new BlockStoreReceiver(Store, Target));

        AssertSameFolders();
        Assert.Equal(2, second.BlocksSent);
        Assert.True(second.BytesSent <= 2 * Block, $"{second.BytesSent} bytes for two changed blocks");
    }

    [Fact]
    public async Task A_send_cut_off_midway_resumes_without_sending_again_what_arrived()
    {
        var dropping = new DroppingReceiver(new BlockStoreReceiver(Store, Target), dropAfter: 10);
        await Assert.ThrowsAsync<IOException>(() => SendAsync(dropping));

        var resumed = await SendAsync(new BlockStoreReceiver(Store, Target));

        AssertSameFolders();
        var distinctBlocks = FolderManifest.Build(Source, Block).Files.SelectMany(f => f.Blocks).Select(b => b.Hash).Distinct().Count();
        Assert.Equal(distinctBlocks - 10, resumed.BlocksSent);
    }

    [Fact]
    public async Task A_corrupted_block_is_refused_and_nothing_is_committed()
    {
        var receiver = new BlockStoreReceiver(Store, Target);
        var error = await Assert.ThrowsAsync<TransferIntegrityException>(() => SendAsync(new CorruptingReceiver(receiver)));

        Assert.Contains("SHA-256", error.Message);
        Assert.False(Directory.Exists(Target));
    }

    /// <summary>Passes blocks on, then fails as a dropped connection would.</summary>
    sealed class DroppingReceiver(IBlockReceiver inner, int dropAfter) : IBlockReceiver
    {
        int received;
        public Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken) => inner.MissingAsync(hashes, cancellationToken);
        public Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken) =>
            ++received > dropAfter ? throw new IOException("connection reset") : inner.PutAsync(hash, compressed, cancellationToken);
        public Task CommitAsync(FolderManifest manifest, CancellationToken cancellationToken) => inner.CommitAsync(manifest, cancellationToken);
    }

    /// <summary>Flips a byte of the first block on the way, as a faulty link would.</summary>
    sealed class CorruptingReceiver(IBlockReceiver inner) : IBlockReceiver
    {
        public Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken) => inner.MissingAsync(hashes, cancellationToken);
        public Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken)
        {
            using var decompressor = new ZstdSharp.Decompressor();
            var block = decompressor.Unwrap(compressed.Span).ToArray();
            block[0] ^= 0xFF;
            using var compressor = new ZstdSharp.Compressor();
            return inner.PutAsync(hash, compressor.Wrap(block).ToArray(), cancellationToken);
        }
        public Task CommitAsync(FolderManifest manifest, CancellationToken cancellationToken) => inner.CommitAsync(manifest, cancellationToken);
    }
}
