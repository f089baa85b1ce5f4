using System.Text.Json;

namespace Platform.NodeBench;

/// <summary>One measured figure: what (<c>cpu_sha256_single</c>), how much, in which unit, and how it was measured.</summary>
public sealed record BenchResult(string Benchmark, double Value, string Unit, string Method)
{
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["benchmark"] = Benchmark, ["value"] = Value, ["unit"] = Unit, ["method"] = Method,
    });
}

/// <summary>Runs <paramref name="work"/> repeatedly for at least <paramref name="duration"/>; returns the units done and the seconds taken.</summary>
static class Timed
{
    public static (long Units, double Seconds) Repeat(TimeSpan duration, Func<long> work)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long units = 0;
        while (clock.Elapsed < duration) units += work();
        return (units, clock.Elapsed.TotalSeconds);
    }
}
