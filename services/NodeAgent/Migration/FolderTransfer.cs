using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using ZstdSharp;
using Platform.NodeAgent.Machine;

namespace Platform.NodeAgent.Migration;

/// <summary>The receiving side of a folder transfer (the target agent, or a test's stand-in).</summary>
public interface IBlockReceiver
{
    /// <summary>The hashes among <paramref name="hashes"/> the receiver does not hold yet.</summary>
    Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken);

    /// <summary>One block, zstd-compressed; the receiver verifies its SHA-256 against the hash before keeping it.</summary>
    Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken);

    /// <summary>
    /// Builds the folder from the manifest's blocks, verifying each file's SHA-256. A partial manifest (a pre-copy round's
    /// files that came whole) leaves the folder's other files as they are; a full one removes files it does not list.
    /// </summary>
    Task CommitAsync(FolderManifest manifest, bool partial, CancellationToken cancellationToken);
}

/// <summary>
/// How to send: zstd level, pace (0: unlimited), block size, which files travel (relative paths; null: all), blocks in
/// flight at once, and whether this is the final round. A pre-copy round of a running workload is not final: blocks
/// that changed after the folder was read are skipped (the next round sends them) and only the files that came whole
/// are committed. The final round, with the workload stopped, must send everything and commits the whole folder.
/// </summary>
public sealed record TransferOptions(
    int CompressionLevel = 3, long BytesPerSecond = 0, int BlockSize = FolderManifest.DefaultBlockSize, Func<string, bool>? Include = null, bool Final = true,
    int Parallelism = 4);

/// <summary>How a transfer went: the folder's size, bytes on the wire, blocks sent and skipped, time taken.</summary>
public sealed record TransferResult(long BytesTotal, long BytesSent, int BlocksSent, int BlocksSkipped, TimeSpan Elapsed)
{
    /// <summary>What the delta and the compression saved against copying the folder as it is.</summary>
    public long BytesSaved => BytesTotal - BytesSent;
}

/// <summary>
/// Sends a folder to a receiver: the manifest first, then only the blocks the receiver lacks (a block sent before —
/// in an earlier round, or before a dropped connection — is not sent again), each zstd-compressed and paced to the
/// bandwidth limit, then the commit. Repeating a send after a failure resumes it. Every block is hashed again as it
/// is read, so content that changed after the manifest was built never goes out under the old hash.
/// </summary>
public static class FolderTransfer
{
    public static async Task<TransferResult> SendAsync(string folder, IBlockReceiver receiver, TransferOptions options,
        IProgress<TransferResult>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var manifest = FolderManifest.Build(folder, options.BlockSize, options.Include);
        // Where each distinct block can be read: its first file and offset.
        var locations = new Dictionary<string, (string Path, long Offset, int Length)>();
        foreach (var file in manifest.Files)
        {
            long offset = 0;
            foreach (var block in file.Blocks)
            {
                locations.TryAdd(block.Hash, (Path.Combine(folder, file.Path), offset, block.Length));
                offset += block.Length;
            }
        }
        var missing = await receiver.MissingAsync(locations.Keys, cancellationToken);
        var skipped = locations.Count - missing.Count;
        var pacer = new BandwidthLimiter(options.BytesPerSecond);
        var compressors = new ConcurrentBag<Compressor>();
        var changed = new ConcurrentDictionary<string, bool>();
        long sent = 0;
        var blocksSent = 0;
        try
        {
            // Several blocks in flight: reading, hashing and compressing the next overlap with the receiver's work on this one.
            await Parallel.ForEachAsync(locations.Where(l => missing.Contains(l.Key)),
                new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (entry, token) =>
                {
                    var (hash, (path, offset, length)) = entry;
                    var buffer = ArrayPool<byte>.Shared.Rent(length);
                    try
                    {
                        if (!await ReadAsync(path, offset, buffer.AsMemory(0, length), token) || Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, length))) != hash)
                        {
                            if (options.Final) throw new TransferIntegrityException($"{Path.GetRelativePath(folder, path)} changed while it was being sent");
                            changed[hash] = true; // written to (or removed) since the folder was read: the next round sends what it is then
                            return;
                        }
                        var compressor = compressors.TryTake(out var idle) ? idle : new Compressor(options.CompressionLevel);
                        var compressed = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(length));
                        try
                        {
                            var size = compressor.Wrap(buffer.AsSpan(0, length), compressed);
                            compressors.Add(compressor);
                            await pacer.WaitAsync(size, token);
                            await receiver.PutAsync(hash, compressed.AsMemory(0, size), token);
                            var (total, blocks) = (Interlocked.Add(ref sent, size), Interlocked.Increment(ref blocksSent));
                            progress?.Report(new(manifest.TotalBytes, total, blocks, skipped, clock.Elapsed));
                        }
                        finally
                        {
                            ArrayPool<byte>.Shared.Return(compressed);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                });
        }
        finally
        {
            foreach (var compressor in compressors) compressor.Dispose();
        }
        if (options.Final) await receiver.CommitAsync(manifest, partial: false, cancellationToken);
        else await receiver.CommitAsync(new FolderManifest([.. manifest.Files.Where(f => !f.Blocks.Any(b => changed.ContainsKey(b.Hash)))]), partial: true, cancellationToken);
        return new(manifest.TotalBytes, sent, blocksSent, skipped, clock.Elapsed);
    }

    /// <summary>Reads a block; false when its file is gone or now too short (a running workload rewrote it).</summary>
    static async Task<bool> ReadAsync(string path, long offset, Memory<byte> block, CancellationToken cancellationToken)
    {
        try
        {
            // Opened as untrusted: the workload may have swapped the file for a link or a FIFO since the manifest was built.
            await using var stream = UntrustedFiles.OpenRead(path);
            if (stream is null) return false;
            stream.Seek(offset, SeekOrigin.Begin);
            await stream.ReadExactlyAsync(block, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException or UntrustedFileException)
        {
            return false;
        }
    }
}

/// <summary>Paces bytes to a rate (0: unlimited): each send waits until the bytes so far fit the rate since the start.</summary>
public sealed class BandwidthLimiter(long bytesPerSecond)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    long bytes;

    public async Task WaitAsync(int count, CancellationToken cancellationToken)
    {
        if (bytesPerSecond <= 0) return;
        var total = Interlocked.Add(ref bytes, count);
        var due = TimeSpan.FromSeconds((double)total / bytesPerSecond) - clock.Elapsed;
        if (due > TimeSpan.Zero) await Task.Delay(due, cancellationToken);
    }
}
