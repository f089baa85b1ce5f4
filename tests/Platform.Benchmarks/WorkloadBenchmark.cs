extern alias nodeagent;

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using ProcessDriver = nodeagent::Platform.NodeAgent.Drivers.ProcessDriver;

namespace Platform.Benchmarks;

/// <summary>
/// Create→running latency of the process driver through the whole platform (REST through the gateway, placement in
/// Compute, the agent woken by its watch stream, the process started, its report turning the operation succeeded),
/// one workload at a time, against the process driver starting the same process by itself, in one run.
/// </summary>
public static class WorkloadBenchmark
{
    public static async Task<int> RunAsync(string appHostDll, int count)
    {
        await using var bench = await BenchPlatform.StartAsync(appHostDll, nodes: 1, "workloads");
        var http = bench.Http;
        Console.WriteLine("workloads: a node is Ready; measuring");

        await MeasurePlatformAsync(http, 5); // warm-up: connections, JIT, query plans
        var platform = await MeasurePlatformAsync(http, count);
        var driver = await MeasureDriverAsync(count);

        var (p50, p95) = Percentiles(platform);
        var (d50, d95) = Percentiles(driver);
        Console.WriteLine($"workloads: create→running through the platform p50 {p50:F1} ms  p95 {p95:F1} ms ({count} workloads, one at a time)");
        Console.WriteLine($"workloads: the process driver alone        p50 {d50:F1} ms  p95 {d95:F1} ms");
        Console.WriteLine($"workloads: ratio p50 {p50 / d50:F1}x, the control plane adds {p50 - d50:F1} ms at p50");
        return 0;
    }

    /// <summary>Each workload: the create request until its operation is no longer running (polled every 2 ms); then deleted.</summary>
    static async Task<List<double>> MeasurePlatformAsync(HttpClient http, int count)
    {
        var times = new List<double>();
        var created = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.PostAsJsonAsync("/api/compute/workloads", new { command = "sleep", args = new[] { "600" }, cpuMillis = 10, memoryBytes = 16L << 20 });
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(body.ToString());
            var operation = body.GetProperty("operation").GetProperty("operationId").GetString();
            string status;
            do status = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/operations/{operation}")).RootElement.GetProperty("status").GetString()!;
            while (status == "running" && await Delay());
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (status != "succeeded") throw new InvalidOperationException($"workload {i}: create {status}");
            created.Add(body.GetProperty("workload").GetProperty("workloadId").GetString()!);
        }
        foreach (var id in created) (await http.DeleteAsync($"/api/compute/workloads/{id}")).EnsureSuccessStatusCode();
        return times;
    }

    static async Task<bool> Delay()
    {
        await Task.Delay(2);
        return true;
    }

    /// <summary>The same process started by the process driver directly, until StartAsync returns (when the agent reports running).</summary>
    static async Task<List<double>> MeasureDriverAsync(int count)
    {
        var driver = new ProcessDriver(NullLogger<ProcessDriver>.Instance);
        var root = Directory.CreateTempSubdirectory("driver-bench-");
        var times = new List<double>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var assignment = new Assignment { WorkloadId = Guid.NewGuid().ToString(), Name = $"bench-{i}", Command = "sleep", Args = { "600" }, MemoryBytes = 16L << 20 };
                var clock = Stopwatch.StartNew();
                var handle = await driver.StartAsync(assignment, Path.Combine(root.FullName, assignment.WorkloadId), CancellationToken.None);
                times.Add(clock.Elapsed.TotalMilliseconds);
                await driver.StopAsync(handle, TimeSpan.Zero, CancellationToken.None);
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
        return times;
    }

    static (double P50, double P95) Percentiles(List<double> times)
    {
        var sorted = times.Order().ToList();
        return (sorted[sorted.Count / 2], sorted[(int)Math.Ceiling(sorted.Count * 0.95) - 1]);
    }
}
