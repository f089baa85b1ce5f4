namespace Platform.NodeBench;

/// <summary>Memory bandwidth: copying a 64 MiB buffer (far larger than any CPU cache) into another, for two seconds.</summary>
static class MemoryBench
{
    public static IEnumerable<BenchResult> Run()
    {
        var source = new byte[64 << 20];
        var target = new byte[64 << 20];
        Random.Shared.NextBytes(source);
        source.AsSpan().CopyTo(target); // touch every page before timing
        var (bytes, seconds) = Timed.Repeat(TimeSpan.FromSeconds(2), () =>
        {
            source.AsSpan().CopyTo(target);
            return source.Length;
        });
        return [new("memory_copy", bytes / seconds, "bytes_per_second", "64 MiB copied buffer to buffer, repeated for 2 s (bytes copied per second)")];
    }
}
