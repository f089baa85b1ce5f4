using System.Diagnostics;
using System.Security.Cryptography;
using ZstdSharp;

namespace Platform.NodeAgent.Migration;

/// <summary>The receiving side of a folder transfer (the target agent, or a test's stand-in).</summary>
public interface IBlockReceiver
{
    /// <summary>The hashes among <paramref name="hashes"/> the receiver does not hold yet.</summary>
    Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken);

    /// <summary>One block, zstd-compressed; the receiver verifies its SHA-256 against the hash before keeping it.</summary>
    Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken);

    /// <summary>Builds the folder from the manifest's blocks, verifying each file's SHA-256.</summary>
    Task CommitAsync(FolderManifest manifest, CancellationToken cancellationToken);
}

/// <summary>
/// How to send: zstd level, pace (0: unlimited), block size, which files travel (relative paths; null: all), and whether
/// the round ends in a commit. A pre-copy round of a running workload does not commit: it only moves blocks ahead, and
/// skips blocks that changed after the folder was read (the next round sends them).
/// </summary>
public sealed record TransferOptions(
    int CompressionLevel = 3, long BytesPerSecond = 0, int BlockSize = FolderManifest.DefaultBlockSize, Func<string, bool>? Include = null, bool Commit = true);

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
        var pacer = new BandwidthLimiter(options.BytesPerSecond);
        using var compressor = new Compressor(options.CompressionLevel);
        var buffer = new byte[options.BlockSize];
        long sent = 0;
        var blocksSent = 0;
        foreach (var (hash, (path, offset, length)) in locations)
        {
            if (!missing.Contains(hash)) continue;
            await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                stream.Seek(offset, SeekOrigin.Begin);
                await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
            }
            if (Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, length))) != hash)
            {
                if (options.Commit) throw new TransferIntegrityException($"{Path.GetRelativePath(folder, path)} changed while it was being sent");
                continue; // written to since the folder was read: the next round sends its new content
            }
            var compressed = compressor.Wrap(buffer.AsSpan(0, length)).ToArray();
            await pacer.WaitAsync(compressed.Length, cancellationToken);
            await receiver.PutAsync(hash, compressed, cancellationToken);
            sent += compressed.Length;
            blocksSent++;
            progress?.Report(new(manifest.TotalBytes, sent, blocksSent, locations.Count - missing.Count, clock.Elapsed));
        }
        if (options.Commit) await receiver.CommitAsync(manifest, cancellationToken);
        return new(manifest.TotalBytes, sent, blocksSent, locations.Count - missing.Count, clock.Elapsed);
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
        bytes += count;
        var due = TimeSpan.FromSeconds((double)bytes / bytesPerSecond) - clock.Elapsed;
        if (due > TimeSpan.Zero) await Task.Delay(due, cancellationToken);
    }
}
