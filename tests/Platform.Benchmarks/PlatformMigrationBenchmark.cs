using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using static Platform.Benchmarks.MigrationBenchmark;

namespace Platform.Benchmarks;

/// <summary>
/// Migrations through the whole platform between two real NodeAgents: a running workload with a 512 MiB folder (the
/// transfer benchmark's mix) moved cold from node 1 to node 2, then warm back while 5% of its blocks change during the
/// pre-copy. Each against tar | zstd | unzstd | untar of the same folder, measured in the same run.
/// </summary>
public static class PlatformMigrationBenchmark
{
    public static async Task<int> RunAsync(string appHostDll)
    {
        await using var bench = await BenchPlatform.StartAsync(appHostDll, nodes: 2, "migration");
        var http = bench.Http;
        var nodes = await bench.ReadyNodesAsync();
        var (first, second) = (nodes[0], nodes[1]);
        string Folder((string Id, string Name) node, string id) => Path.Combine(bench.DataDirectory, "nodes", node.Name, "workloads", id);

        using var created = await http.PostAsJsonAsync("/api/compute/workloads", new
        {
            name = "stateful", command = "sleep", args = new[] { "100000" }, cpuMillis = 100, memoryBytes = 64L << 20, nodeId = first.Id,
        });
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("workload").GetProperty("workloadId").GetString()!;
        await UntilAsync(async () => (await WorkloadAsync(http, id)).GetProperty("vmState").GetString() == "active");
        // Warm-up: both agents send and receive twice (JIT tiers, connections) with 64 MiB of the same mix.
        var warmUp = new byte[64 * MiB];
        new Random(1).NextBytes(warmUp);
        await File.WriteAllBytesAsync(Path.Combine(Folder(first, id), "warm-up.bin"), warmUp);
        for (var round = 0; round < 2; round++)
        {
            await MigrateAsync(http, id, second.Id, "cold", null);
            await MigrateAsync(http, id, first.Id, "cold", null);
        }
        File.Delete(Path.Combine(Folder(first, id), "warm-up.bin"));
        Fill(Folder(first, id));
        System.Diagnostics.Process.Start("sync")!.WaitForExit(); // the fill's writeback is neither side's cost
        var total = (long)Files * FileMiB * MiB;
        var scratch = Directory.CreateTempSubdirectory("migration-bench-copy-");
        var baseline = ZstdCopy(Folder(first, id), scratch.FullName);
        scratch.Delete(recursive: true);
        Console.WriteLine($"migration (platform): a running workload with a {total / MiB} MiB folder; tar|zstd -3|unzstd|untar of it: {baseline.TotalSeconds:F2} s");

        var cold = await MigrateAsync(http, id, second.Id, "cold", null);
        Report("cold, node 1 → node 2", cold, total, baseline);

        var changed = 0;
        var warm = await MigrateAsync(http, id, first.Id, "warm", () => changed = Change(Folder(second, id), 0.05));
        Report($"warm back, {changed} blocks changed in pre-copy", warm, total, baseline);
        Console.WriteLine($"migration (platform): warm downtime {warm.Downtime:F0} ms vs cold {cold.Downtime:F0} ms ({cold.Downtime / Math.Max(1, warm.Downtime):F1}x shorter)");
        return 0;
    }

    sealed record Outcome(double Seconds, double Downtime, long Sent, long Saved, int Rounds);

    static void Report(string what, Outcome outcome, long total, TimeSpan baseline) =>
        Console.WriteLine($"migration (platform): {what,-36} {outcome.Seconds:F2} s = {outcome.Seconds / baseline.TotalSeconds:F2}x the zstd copy; " +
            $"downtime {outcome.Downtime:F0} ms; {outcome.Sent / (double)MiB:F1} MiB on the wire = {100.0 * outcome.Sent / total:F1}% of a plain copy; " +
            $"{outcome.Rounds} rounds, {outcome.Saved / (double)MiB:F1} MiB saved");

    /// <summary>Requests the migration and polls it every 20 ms until it completes; <paramref name="duringPrecopy"/> runs once the first pre-copy round is in.</summary>
    static async Task<Outcome> MigrateAsync(HttpClient http, string id, string target, string type, Action? duringPrecopy)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsJsonAsync($"/api/compute/workloads/{id}/migrate", new { targetNodeId = target, type });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException(body);
        var migrationId = JsonDocument.Parse(body).RootElement.GetProperty("migration").GetProperty("migrationId").GetString()!;
        JsonElement migration;
        while (true)
        {
            migration = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/migrations/{migrationId}")).RootElement.Clone();
            var phase = migration.GetProperty("phase").GetString();
            if (phase == "completed") break;
            if (phase is "failed" or "aborted") throw new InvalidOperationException($"migration {phase}: {migration.GetProperty("error")}");
            if (duringPrecopy is not null && migration.GetProperty("rounds").GetInt32() >= 1)
            {
                duringPrecopy();
                duringPrecopy = null;
            }
            await Task.Delay(20);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        long Long(string name) => long.Parse(migration.GetProperty(name).GetString()!);
        return new(seconds, Long("downtimeMs"), Long("bytesSent"), Long("bytesSaved"), migration.GetProperty("rounds").GetInt32());
    }

    static async Task<JsonElement> WorkloadAsync(HttpClient http, string id) =>
        JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{id}")).RootElement.Clone();

    static async Task UntilAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        throw new TimeoutException("the workload did not become active");
    }
}
