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

    Task<TransferResult> SendAsync(IBlockReceiver receiver, bool final = true) =>
        FolderTransfer.SendAsync(Source, receiver, new TransferOptions(BlockSize: Block, Final: final), null, CancellationToken.None);

    /// <summary>The file's inode number (stat -c %i): the same inode means the file was written in place, not replaced.</summary>
    static long Inode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        return long.Parse(stat.StandardOutput.ReadToEnd().Trim());
    }

    void ChangeBlocks(params int[] blocks)
    {
        using var image = new FileStream(Path.Combine(Source, "disk", "image.raw"), FileMode.Open, FileAccess.Write);
        foreach (var block in blocks)
        {
            image.Seek(block * (long)Block + 100, SeekOrigin.Begin);
            image.Write(Guid.NewGuid().ToByteArray());
        }
    }

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

        var inode = Inode(Path.Combine(Target, "disk", "image.raw"));

        ChangeBlocks(3, 31); // 2 of 40 blocks (5%)
        var second = await SendAsync(new BlockStoreReceiver(Store, Target));

        AssertSameFolders();
        Assert.Equal(2, second.BlocksSent);
        Assert.True(second.BytesSent <= 2 * Block, $"{second.BytesSent} bytes for two changed blocks");
        Assert.Equal(inode, Inode(Path.Combine(Target, "disk", "image.raw"))); // patched in place, not rebuilt
    }

    [Fact]
    public async Task A_pre_copy_round_skips_blocks_written_during_it_and_commits_only_the_files_that_came_whole()
    {
        // The workload writes to its disk image while the round reads it. Four blocks are in flight at most, so blocks 5
        // and 15 (random, each unlike any other) are read after the write, no longer match the folder as first read, and wait.
        var distinct = FolderManifest.Build(Source, Block).Files.SelectMany(f => f.Blocks).Select(b => b.Hash).Distinct().Count();
        var writing = new WritingReceiver(new BlockStoreReceiver(Store, Target), () => ChangeBlocks(5, 15));
        var precopy = await SendAsync(writing, final: false);

        Assert.Equal(distinct - 2, precopy.BlocksSent);
        Assert.Equal("{\"memory\": 512}", File.ReadAllText(Path.Combine(Target, "config.json")));
        Assert.False(File.Exists(Path.Combine(Target, "disk", "image.raw")), "the image did not come whole");

        var final = await SendAsync(new BlockStoreReceiver(Store, Target));
        AssertSameFolders();
        Assert.Equal(2, final.BlocksSent);
    }

    [Fact]
    public async Task A_file_removed_during_a_pre_copy_round_is_left_for_the_next_round_and_the_final_round_drops_it()
    {
        var scratch = Path.Combine(Source, "scratch.tmp");
        File.WriteAllBytes(scratch, Enumerable.Range(0, 3 * Block).Select(i => (byte)(i * 7 % 251)).ToArray());
        await SendAsync(new WritingReceiver(new BlockStoreReceiver(Store, Target), () => File.Delete(scratch)), final: false);

        Assert.False(File.Exists(Path.Combine(Target, "scratch.tmp")));
        var final = await SendAsync(new BlockStoreReceiver(Store, Target));
        AssertSameFolders();
        Assert.Equal(0, final.BlocksSent);
    }

    [Fact]
    public async Task A_send_cut_off_midway_resumes_without_sending_again_what_arrived()
    {
        var dropping = new DroppingReceiver(new BlockStoreReceiver(Store, Target), dropAfter: 10);
        await Assert.ThrowsAsync<IOException>(() => SendAsync(dropping));
        // Blocks still in flight when the connection dropped may not have arrived; those that did are kept.
        var arrived = Directory.EnumerateFiles(Store).Count(f => !f.EndsWith(".tmp"));
        Assert.InRange(arrived, 10 - 3, 10);

        var resumed = await SendAsync(new BlockStoreReceiver(Store, Target));

        AssertSameFolders();
        var distinctBlocks = FolderManifest.Build(Source, Block).Files.SelectMany(f => f.Blocks).Select(b => b.Hash).Distinct().Count();
        Assert.Equal(distinctBlocks - arrived, resumed.BlocksSent);
    }

    [Fact]
    public async Task A_corrupted_block_is_refused_and_nothing_is_committed()
    {
        var receiver = new BlockStoreReceiver(Store, Target);
        var error = await Assert.ThrowsAsync<TransferIntegrityException>(() => SendAsync(new CorruptingReceiver(receiver)));

        Assert.Contains("SHA-256", error.Message);
        Assert.False(Directory.Exists(Target));
    }

    [Fact]
    public async Task A_block_that_would_expand_past_the_block_limit_is_refused_before_it_is_unpacked()
    {
        using var compressor = new ZstdSharp.Compressor();
        var bomb = compressor.Wrap(new byte[BlockStoreReceiver.MaxBlockSize + 1]).ToArray(); // a few hundred bytes on the wire

        var refused = await Assert.ThrowsAsync<TransferIntegrityException>(() =>
            new BlockStoreReceiver(Store, Target).PutAsync(new string('0', 64), bomb, CancellationToken.None));

        Assert.Contains("blocks are at most", refused.Message);
        Assert.False(Directory.Exists(Store) && Directory.EnumerateFileSystemEntries(Store).Any());
    }

    /// <summary>Runs <paramref name="write"/> once, when the first block arrives: a workload writing during the round.</summary>
    sealed class WritingReceiver(IBlockReceiver inner, Action write) : IBlockReceiver
    {
        readonly Lock gate = new();
        bool written;
        public Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken) => inner.MissingAsync(hashes, cancellationToken);
        public Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken)
        {
            // Every put waits until the write is done: a sender whose put returned first could otherwise read on and take
            // block 5 while the write was still under way (CI, under load, saw 21 blocks sent).
            lock (gate)
            {
                if (!written) write();
                written = true;
            }
            return inner.PutAsync(hash, compressed, cancellationToken);
        }
        public Task CommitAsync(FolderManifest manifest, bool partial, CancellationToken cancellationToken) => inner.CommitAsync(manifest, partial, cancellationToken);
    }

    /// <summary>Passes blocks on, then fails as a dropped connection would.</summary>
    sealed class DroppingReceiver(IBlockReceiver inner, int dropAfter) : IBlockReceiver
    {
        int received;
        public Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken) => inner.MissingAsync(hashes, cancellationToken);
        public Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref received) > dropAfter ? throw new IOException("connection reset") : inner.PutAsync(hash, compressed, cancellationToken);
        public Task CommitAsync(FolderManifest manifest, bool partial, CancellationToken cancellationToken) => inner.CommitAsync(manifest, partial, cancellationToken);
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
        public Task CommitAsync(FolderManifest manifest, bool partial, CancellationToken cancellationToken) => inner.CommitAsync(manifest, partial, cancellationToken);
    }
}
