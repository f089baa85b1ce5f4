using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// Benchmarks run as workloads on the AppHost's nodes (the NodeAgent's benchmark driver running NodeBench), through the
/// gateway: the results are measured on each node, kept with their history, and shipped to Telemetry as series.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class BenchmarkTests(PlatformFixture fixture)
{
    [Fact]
    public async Task A_benchmark_runs_on_both_nodes_its_results_are_queryable_and_a_second_run_waits_for_the_first()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray()
            .Select(n => n.GetProperty("nodeId").GetString()!).ToList();
        Assert.True(nodes.Count >= 2);

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var run = await StartAsync(http, ["cpu", "network"], limit.Token);
        var runId = run.GetProperty("runId").GetString();
        Assert.Equal(nodes.Count * 2, run.GetProperty("tasks").GetArrayLength()); // CPU on each, and the network from each to the next
        using (var second = await http.PostAsJsonAsync("/api/actions/run_benchmark", new { kinds = new[] { "memory" } }))
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);

        JsonElement finished;
        while ((finished = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/benchmarks/{runId}", limit.Token)).RootElement.Clone())
               .GetProperty("state").GetString() == "running")
            await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
        Assert.True(finished.GetProperty("state").GetString() == "completed", finished.ToString());
        Assert.All(finished.GetProperty("tasks").EnumerateArray(), task => Assert.True(task.GetProperty("state").GetString() == "completed", task.ToString()));

        var data = JsonDocument.Parse(await http.GetStringAsync("/api/benchmarks/data")).RootElement;
        var latest = data.GetProperty("latest").EnumerateArray().ToList();
        foreach (var node in nodes)
        {
            var single = latest.Single(r => r.GetProperty("nodeId").GetString() == node && r.GetProperty("benchmark").GetString() == "cpu_sha256_single");
            Assert.Equal("bytes_per_second", single.GetProperty("unit").GetString());
            Assert.True(single.GetProperty("value").GetDouble() > 1_000_000, single.ToString()); // any CPU hashes more than 1 MB/s
            var rtt = latest.Single(r => r.GetProperty("nodeId").GetString() == node && r.GetProperty("benchmark").GetString() == "network_rtt_p50");
            Assert.InRange(rtt.GetProperty("value").GetDouble(), 1e-7, 1);
            Assert.NotEqual(node, rtt.GetProperty("peerNodeId").GetString());
        }
        Assert.Contains(data.GetProperty("runs").EnumerateArray(), r => r.GetProperty("runId").GetString() == runId);
        // The benchmark workloads are gone once read.
        var benchmarkWorkloads = JsonDocument.Parse(await http.GetStringAsync("/api/compute/workloads?driver=benchmark")).RootElement;
        Assert.False(benchmarkWorkloads.TryGetProperty("workloads", out var left) && left.GetArrayLength() > 0, benchmarkWorkloads.ToString());

        // And Telemetry holds them as series, labelled by node.
        JsonElement samples;
        while (!(samples = JsonDocument.Parse(await http.GetStringAsync("/api/telemetry/metrics/benchmark_cpu_sha256_single_bytes_per_second/samples?sinceMs=0", limit.Token)).RootElement.Clone())
                   .TryGetProperty("series", out var series) || series.GetArrayLength() < nodes.Count)
            await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
        Assert.All(samples.GetProperty("series").EnumerateArray(), s => Assert.False(string.IsNullOrEmpty(s.GetProperty("labels").GetProperty("node").GetString())));

        // Seed 000's views over them: each node's benchmarks beside its use, and the links between nodes.
        var performance = JsonDocument.Parse(await http.GetStringAsync("/api/performance", limit.Token)).RootElement.GetProperty("nodes");
        Assert.All(performance.EnumerateArray(), node => Assert.Contains(node.GetProperty("benchmarks").EnumerateArray(), b => b.GetProperty("benchmark").GetString() == "cpu_sha256_all"));
        var network = JsonDocument.Parse(await http.GetStringAsync("/api/network", limit.Token)).RootElement;
        Assert.All(network.GetProperty("nodes").EnumerateArray(), node => Assert.True(node.GetProperty("addresses").GetArrayLength() > 0, node.ToString()));
        var links = network.GetProperty("links").EnumerateArray().ToList();
        Assert.True(links.Count >= 2, network.ToString());
        Assert.All(links, link => Assert.True(link.GetProperty("networkThroughput").GetDouble() > 0 && link.GetProperty("networkRttP50").GetDouble() > 0, link.ToString()));
    }

    [Fact]
    public async Task Bad_requests_name_their_field_and_a_stopped_run_leaves_no_workload()
    {
        using var http = fixture.Platform.CreateHttpClient();
        using (var badKind = await http.PostAsJsonAsync("/api/benchmarks/start", new { kinds = new[] { "gpu" } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
            Assert.Contains("kinds", await badKind.Content.ReadAsStringAsync());
        }
        using (var unknownNode = await http.PostAsJsonAsync("/api/benchmarks/start", new { nodeIds = new[] { Guid.NewGuid().ToString() } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknownNode.StatusCode);
            Assert.Contains("node_ids", await unknownNode.Content.ReadAsStringAsync());
        }
        // Only a run starts benchmark workloads: one created directly could give NodeBench an environment of its choosing.
        using (var userWorkload = await http.PostAsJsonAsync("/api/compute/workloads", new { name = "not-a-benchmark", driver = "benchmark", command = "cpu" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, userWorkload.StatusCode);
            Assert.Contains("driver", await userWorkload.Content.ReadAsStringAsync());
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var runId = (await StartAsync(http, ["disk"], limit.Token)).GetProperty("runId").GetString();
        // Wait until its first workload exists, then stop the run.
        while (JsonDocument.Parse(await http.GetStringAsync($"/api/compute/benchmarks/{runId}", limit.Token)).RootElement.GetProperty("tasks")[0].GetProperty("workloadId").GetString() is null or "")
            await Task.Delay(TimeSpan.FromMilliseconds(200), limit.Token);
        using var stopped = await http.PostAsJsonAsync("/api/benchmarks/stop", new { runId }, limit.Token);
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        var run = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/benchmarks/{runId}", limit.Token)).RootElement;
        Assert.Equal("stopped", run.GetProperty("state").GetString());
        var workloadId = run.GetProperty("tasks")[0].GetProperty("workloadId").GetString();
        // Its workload is being deleted at once, and is gone once its node confirms.
        while (JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{workloadId}", limit.Token)).RootElement.GetProperty("vmState").GetString() != "deleted")
            await Task.Delay(TimeSpan.FromMilliseconds(200), limit.Token);
    }

    /// <summary>Starts a run once no other is active (one at a time; the other test here may be running one).</summary>
    async Task<JsonElement> StartAsync(HttpClient http, string[] kinds, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var started = await http.PostAsJsonAsync("/api/benchmarks/start", new { kinds }, cancellationToken);
            if (started.StatusCode != HttpStatusCode.Conflict)
            {
                Assert.True(started.StatusCode == HttpStatusCode.OK, $"{started.StatusCode}: {await started.Content.ReadAsStringAsync(cancellationToken)}\n{fixture.Platform.ErrorLines()}");
                return JsonDocument.Parse(await started.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
