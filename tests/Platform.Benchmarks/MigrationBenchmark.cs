extern alias nodeagent;

using System.Diagnostics;
using System.Text;
using BlockStoreReceiver = nodeagent::Platform.NodeAgent.Migration.BlockStoreReceiver;
using FolderTransfer = nodeagent::Platform.NodeAgent.Migration.FolderTransfer;
using TransferOptions = nodeagent::Platform.NodeAgent.Migration.TransferOptions;
using TransferResult = nodeagent::Platform.NodeAgent.Migration.TransferResult;

namespace Platform.Benchmarks;

/// <summary>
/// A 512 MiB state folder sent twice through the migration transfer (blocks by SHA-256, only the missing ones, zstd),
/// with 5% of its blocks changed between the rounds: bytes on the wire against a plain copy of the folder, and time
/// against tar | zstd | unzstd | untar of the same folder, in one run on this machine (no network in between).
/// </summary>
public static class MigrationBenchmark
{
    internal const int MiB = 1 << 20;
    internal const int Files = 8, FileMiB = 64;

    public static async Task<int> RunAsync()
    {
        var root = Directory.CreateTempSubdirectory("migration-bench-");
        try
        {
            var source = Path.Combine(root.FullName, "source");
            Fill(source);
            var total = (long)Files * FileMiB * MiB;
            var receiver = new BlockStoreReceiver(Path.Combine(root.FullName, "store"), Path.Combine(root.FullName, "target"));
            var options = new TransferOptions(CompressionLevel: 3);

            var first = await FolderTransfer.SendAsync(source, receiver, options, null, CancellationToken.None);
            var changed = Change(source, fraction: 0.05);
            var second = await FolderTransfer.SendAsync(source, receiver, options, null, CancellationToken.None);
            var baseline = ZstdCopy(source, Path.Combine(root.FullName, "zstd-copy"));

            Console.WriteLine($"migration: {total / MiB} MiB state folder ({Files} files), {changed} of {total / MiB} blocks changed between rounds");
            Report("round 1 (full)", first, total, baseline);
            Report("round 2 (5% changed)", second, total, baseline);
            Console.WriteLine($"migration: tar|zstd -3|unzstd|untar of the folder: {baseline.TotalSeconds:F2} s, {total / MiB} MiB read and written every time");
            return 0;
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    static void Report(string round, TransferResult result, long total, TimeSpan baseline) =>
        Console.WriteLine($"migration: {round,-22} {result.BytesSent / (double)MiB,8:F1} MiB on the wire = {100.0 * result.BytesSent / total,5:F1}% of a plain copy; " +
            $"{result.Elapsed.TotalSeconds:F2} s = {result.Elapsed / baseline:F2}x the zstd+copy time; {result.BlocksSent} blocks sent, {result.BlocksSkipped} skipped");

    /// <summary>Blocks half random (incompressible), half text (compressible), like a VM's memory and disk mix.</summary>
    internal static void Fill(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(42);
        var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, MiB / 64).Select(i => $"line {i,8} of the workload's state, mostly text\n")));
        var block = new byte[MiB];
        for (var f = 0; f < Files; f++)
        {
            using var file = File.Create(Path.Combine(folder, $"part-{f}.bin"));
            for (var b = 0; b < FileMiB; b++)
            {
                random.NextBytes(block.AsSpan(0, MiB / 2));
                text.AsSpan(0, MiB / 2).CopyTo(block.AsSpan(MiB / 2));
                block[MiB - 1] = (byte)b; // no two blocks alike
                block[MiB - 2] = (byte)f;
                file.Write(block);
            }
        }
    }

    /// <summary>Overwrites part of <paramref name="fraction"/> of the blocks, spread over the files; returns how many.</summary>
    internal static int Change(string folder, double fraction)
    {
        var random = new Random(7);
        var count = (int)(Files * FileMiB * fraction);
        var bytes = new byte[4096];
        foreach (var index in Enumerable.Range(0, Files * FileMiB).OrderBy(_ => random.Next()).Take(count))
        {
            using var file = new FileStream(Path.Combine(folder, $"part-{index / FileMiB}.bin"), FileMode.Open, FileAccess.Write);
            file.Seek((long)(index % FileMiB) * MiB + 4096, SeekOrigin.Begin);
            random.NextBytes(bytes);
            file.Write(bytes);
        }
        return count;
    }

    internal static TimeSpan ZstdCopy(string source, string target)
    {
        Directory.CreateDirectory(target);
        var clock = Stopwatch.StartNew();
        using var pipeline = Process.Start("sh", ["-c", $"tar -C '{source}' -cf - . | zstd -3 -q -c | zstd -d -q -c | tar -C '{target}' -xf -"])!;
        pipeline.WaitForExit();
        if (pipeline.ExitCode != 0) throw new InvalidOperationException($"zstd copy failed with {pipeline.ExitCode}");
        return clock.Elapsed;
    }
}
