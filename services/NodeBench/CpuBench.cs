using System.Security.Cryptography;

namespace Platform.NodeBench;

/// <summary>SHA-256 throughput over a 1 MiB buffer for two seconds: on one thread, then on one thread per core at once.</summary>
static class CpuBench
{
    static readonly TimeSpan Duration = TimeSpan.FromSeconds(2);

    public static IEnumerable<BenchResult> Run()
    {
        var single = Hash();
        var threads = Environment.ProcessorCount;
        var all = new (long Units, double Seconds)[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => all[i] = Hash());
        return
        [
            new("cpu_sha256_single", single.Units / single.Seconds, "bytes_per_second", "SHA-256 of a 1 MiB buffer, repeated for 2 s on one thread"),
            new("cpu_sha256_all", all.Sum(r => r.Units / r.Seconds), "bytes_per_second", $"the same on {threads} threads at once, summed"),
        ];
    }

    static (long Units, double Seconds) Hash()
    {
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        Span<byte> digest = stackalloc byte[32];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long bytes = 0;
        while (clock.Elapsed < Duration)
        {
            SHA256.HashData(buffer, digest);
            bytes += buffer.Length;
        }
        return (bytes, clock.Elapsed.TotalSeconds);
    }
}
