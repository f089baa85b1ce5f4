using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using ZstdSharp;

namespace Platform.NodeAgent.Migration;

/// <summary>A corrupt block or file: its content does not match its hash.</summary>
public sealed class TransferIntegrityException(string message) : Exception(message);

/// <summary>
/// The target's side: verified blocks kept by hash in a block store (they survive a dropped connection and serve the
/// next round), and the folder built from them on commit, every file checked against its SHA-256. A file already
/// committed by an earlier round is patched in place — only its changed blocks are written — so the last round of a
/// warm migration, the one the workload is stopped for, costs what changed rather than the whole folder. What was
/// committed is recorded beside the folder (<c>committed.json</c>), and forgotten while a commit runs: a commit that
/// fails leaves the next one to rebuild every file whole.
/// </summary>
public sealed class BlockStoreReceiver(string blockStore, string destination) : IBlockReceiver
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    string BlockPath(string hash) => Path.Combine(blockStore, hash);
    string CommittedPath => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, "committed.json");

    /// <summary>Whether the store holds the block already (its hash was verified when it was put).</summary>
    public bool Has(string hash) => File.Exists(BlockPath(hash));

    public Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(blockStore);
        return Task.FromResult<IReadOnlySet<string>>(hashes.Where(h => !File.Exists(BlockPath(h))).ToHashSet());
    }

    /// <summary>The largest block a receiver takes (what a compressed block may say it expands to).</summary>
    public const int MaxBlockSize = 16 << 20;
    static readonly ConcurrentBag<Decompressor> Decompressors = [];

    /// <summary>What a compressed block says it expands to, refused over <see cref="MaxBlockSize"/>.</summary>
    public static long DeclaredSize(string hash, ReadOnlySpan<byte> compressed)
    {
        ulong size;
        try { size = Decompressor.GetDecompressedSize(compressed); }
        catch (ZstdException ex) { throw new TransferIntegrityException($"block {hash} is not valid zstd: {ex.Message}"); }
        if (size > MaxBlockSize) throw new TransferIntegrityException($"block {hash} says it expands to {size} bytes; blocks are at most {MaxBlockSize}");
        return (long)size;
    }

    public async Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken)
    {
        var size = DeclaredSize(hash, compressed.Span);
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var decompressor = Decompressors.TryTake(out var idle) ? idle : new Decompressor();
            int length;
            try
            {
                length = decompressor.Unwrap(compressed.Span, buffer.AsSpan(0, (int)size));
            }
            finally
            {
                Decompressors.Add(decompressor);
            }
            if (Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, length))) != hash)
                throw new TransferIntegrityException($"block {hash} does not match its SHA-256");
            Directory.CreateDirectory(blockStore);
            var path = BlockPath(hash);
            var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
                await file.WriteAsync(buffer.AsMemory(0, length), cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The files and bytes the folder holds once <paramref name="manifest"/> is committed. A partial commit adds to what
    /// is there — counted from the disk too, so files a failed commit left behind are not forgotten.
    /// </summary>
    public (int Files, long Bytes) AfterCommit(FolderManifest manifest, bool partial)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        if (partial && Directory.Exists(destination))
        {
            foreach (var file in new DirectoryInfo(destination).EnumerateFiles("*", SearchOption.AllDirectories))
                sizes[Path.GetRelativePath(destination, file.FullName)] = file.Length;
            foreach (var file in ReadCommitted().Values) sizes[file.Path] = Math.Max(file.Size, sizes.GetValueOrDefault(file.Path));
        }
        foreach (var file in manifest.Files) sizes[file.Path] = Math.Max(file.Size, sizes.GetValueOrDefault(file.Path));
        return (sizes.Count, sizes.Values.Sum());
    }

    public async Task CommitAsync(FolderManifest manifest, bool partial, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var committed = ReadCommitted();
        File.Delete(CommittedPath);
        // Files are independent: built or patched side by side, one per core.
        await Parallel.ForEachAsync(manifest.Files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (file, token) =>
            {
                var target = Path.Combine(destination, file.Path);
                if (committed.GetValueOrDefault(file.Path) is { } before && File.Exists(target) && new FileInfo(target).Length == before.Size)
                {
                    if (before.Sha256 != file.Sha256) await PatchAsync(target, before, file, token);
                    File.SetUnixFileMode(target, file.Mode);
                }
                else await BuildAsync(target, file, token);
            });
        foreach (var file in manifest.Files) committed[file.Path] = file;
        if (!partial)
        {
            var kept = manifest.Files.Select(f => Path.GetFullPath(Path.Combine(destination, f.Path))).ToHashSet();
            foreach (var stale in Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories).Where(p => !kept.Contains(Path.GetFullPath(p))))
                File.Delete(stale);
            committed = manifest.Files.ToDictionary(f => f.Path);
        }
        await File.WriteAllTextAsync(CommittedPath + ".tmp", JsonSerializer.Serialize(committed.Values, Json), cancellationToken);
        File.Move(CommittedPath + ".tmp", CommittedPath, overwrite: true);
    }

    Dictionary<string, FileEntry> ReadCommitted()
    {
        try
        {
            return File.Exists(CommittedPath)
                ? (JsonSerializer.Deserialize<List<FileEntry>>(File.ReadAllText(CommittedPath), Json) ?? []).ToDictionary(f => f.Path)
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>A new file from its blocks, verified, then moved into place whole.</summary>
    async Task BuildAsync(string target, FileEntry file, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(file.Blocks.Count == 0 ? 0 : file.Blocks.Max(b => b.Length));
        try
        {
            await using var output = new FileStream(target + ".tmp", FileMode.Create, FileAccess.Write);
            foreach (var block in file.Blocks)
            {
                var bytes = await ReadBlockAsync(block, buffer, cancellationToken);
                hash.AppendData(bytes.Span);
                await output.WriteAsync(bytes, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (Convert.ToHexStringLower(hash.GetHashAndReset()) != file.Sha256)
        {
            File.Delete(target + ".tmp"); // a failed file leaves no copy behind
            throw new TransferIntegrityException($"{file.Path} does not match its SHA-256");
        }
        File.SetUnixFileMode(target + ".tmp", file.Mode);
        File.Move(target + ".tmp", target, overwrite: true);
    }

    /// <summary>A block from the store into <paramref name="buffer"/> (pooled: 1 MiB arrays would each be a large-object allocation).</summary>
    async Task<ReadOnlyMemory<byte>> ReadBlockAsync(BlockRef block, byte[] buffer, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(BlockPath(block.Hash), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        if (stream.Length != block.Length) throw new TransferIntegrityException($"block {block.Hash} has {stream.Length} bytes, not {block.Length}");
        await stream.ReadExactlyAsync(buffer.AsMemory(0, block.Length), cancellationToken);
        return buffer.AsMemory(0, block.Length);
    }

    /// <summary>An existing file with only the blocks that differ from the committed version written, then verified whole.</summary>
    async Task PatchAsync(string target, FileEntry before, FileEntry file, CancellationToken cancellationToken)
    {
        var offsetsBefore = new long[before.Blocks.Count];
        for (var i = 1; i < offsetsBefore.Length; i++) offsetsBefore[i] = offsetsBefore[i - 1] + before.Blocks[i - 1].Length;
        var buffer = ArrayPool<byte>.Shared.Rent(file.Blocks.Count == 0 ? 0 : file.Blocks.Max(b => b.Length));
        try
        {
            await using var output = new FileStream(target, FileMode.Open, FileAccess.ReadWrite);
            long offset = 0;
            for (var i = 0; i < file.Blocks.Count; i++)
            {
                var block = file.Blocks[i];
                if (i >= before.Blocks.Count || before.Blocks[i] != block || offsetsBefore[i] != offset)
                {
                    output.Seek(offset, SeekOrigin.Begin);
                    await output.WriteAsync(await ReadBlockAsync(block, buffer, cancellationToken), cancellationToken);
                }
                offset += block.Length;
            }
            output.SetLength(file.Size);
            output.Seek(0, SeekOrigin.Begin);
            if (Convert.ToHexStringLower(await SHA256.HashDataAsync(output, cancellationToken)) != file.Sha256)
                throw new TransferIntegrityException($"{file.Path} does not match its SHA-256");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
