using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>What the nodes' agents tell through Compute and the gateway: processes, ports, stats, health, resources, logs.</summary>
[Collection(PlatformCollection.Name)]
public sealed class NodeInsightTests(PlatformFixture fixture)
{
    async Task<JsonElement> FirstNodeAsync(HttpClient http) =>
        JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray().First().Clone();

    [Fact]
    public async Task A_nodes_top_processes_ports_and_stats_come_from_its_machine()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var node = await FirstNodeAsync(http);
        var id = node.GetProperty("nodeId").GetString();

        var processes = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/nodes/{id}/processes?sortBy=memory&limit=5")).RootElement;
        var ports = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/nodes/{id}/ports")).RootElement.GetProperty("ports");
        var stats = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/nodes/{id}/stats")).RootElement;

        var top = processes.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(5, top.Count);
        var rss = top.Select(p => long.Parse(p.GetProperty("rssBytes").GetString()!)).ToList();
        Assert.Equal(rss.OrderDescending(), rss);
        Assert.True(processes.GetProperty("total").GetInt32() > 5);
        // The gateway listens on this machine: its port is listed with its process.
        var gatewayPort = fixture.Platform.Gateway.Port;
        Assert.Contains(ports.EnumerateArray(), p => p.GetProperty("port").GetInt32() == gatewayPort && p.GetProperty("pid").GetInt32() == fixture.Platform.Pids["gateway"]);
        Assert.Equal(Environment.ProcessorCount, stats.GetProperty("cpuCores").GetInt32());
        Assert.True(long.Parse(stats.GetProperty("memoryTotalBytes").GetString()!) > 0);
    }

    [Fact]
    public async Task The_health_check_action_runs_real_checks_on_every_node()
    {
        using var http = fixture.Platform.CreateHttpClient();

        using var response = await http.PostAsJsonAsync("/api/actions/health_check", new { });
        response.EnsureSuccessStatusCode();
        var nodes = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("nodes").EnumerateArray().ToList();

        Assert.Equal(2, nodes.Count);
        foreach (var node in nodes)
        {
            var checks = node.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
            Assert.Superset(new HashSet<string> { "disk", "memory", "load", "compute_lease", "metrics_backlog", "driver_process", "workloads" }, checks.Keys.ToHashSet());
            Assert.Equal("pass", checks["compute_lease"]);
            Assert.Equal("pass", checks["driver_process"]);
        }
    }

    [Fact]
    public async Task Resources_add_up_capacity_reserved_and_the_used_share_measured_by_Telemetry()
    {
        using var http = fixture.Platform.CreateHttpClient();
        JsonElement summary = default;
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            summary = JsonDocument.Parse(await http.GetStringAsync("/api/resources")).RootElement.Clone();
            return summary.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("used").GetProperty("measured").GetBoolean());
        }, "both nodes' use measured", TimeSpan.FromSeconds(60));

        var nodes = summary.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(nodes.Sum(n => n.GetProperty("capacity").GetProperty("cpuCores").GetInt32()), summary.GetProperty("capacity").GetProperty("cpuCores").GetInt32());
        Assert.All(nodes, n => Assert.True(long.Parse(n.GetProperty("used").GetProperty("memoryUsedBytes").GetString()!) > 0));
    }

    [Fact]
    public async Task A_workloads_logs_are_read_from_its_node()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var id = (await WorkloadTests.CreateAsync(http, "talker", "echo hello-logs; echo warning-logs >&2; exec sleep 600")).GetProperty("workloadId").GetString()!;
        await WorkloadTests.WaitForAsync(http, id, "active");

        JsonElement stdout = default;
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            stdout = JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{id}/logs")).RootElement.Clone();
            return stdout.GetProperty("text").GetString() == "hello-logs\n";
        }, "stdout read back");
        var stderr = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{id}/logs?stream=stderr&tailBytes=8")).RootElement;

        Assert.Equal("11", stdout.GetProperty("sizeBytes").GetString());
        Assert.Equal(("ng-logs\n", true), (stderr.GetProperty("text").GetString(), stderr.GetProperty("truncated").GetBoolean()));
        (await http.DeleteAsync($"/api/vm/vms/{id}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_workload_that_swaps_its_log_for_a_link_to_a_host_file_or_a_fifo_gets_an_error_not_the_file()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var id = (await WorkloadTests.CreateAsync(http, "log-swapper",
            "rm -f stdout.log stderr.log; ln -s /etc/shadow stdout.log; mkfifo stderr.log; exec sleep 600")).GetProperty("workloadId").GetString()!;
        await WorkloadTests.WaitForAsync(http, id, "active");

        HttpResponseMessage? link = null;
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            link?.Dispose();
            link = await http.GetAsync($"/api/compute/workloads/{id}/logs");
            return link.StatusCode == System.Net.HttpStatusCode.BadRequest;
        }, "the swapped log refused");
        using var fifo = await http.GetAsync($"/api/compute/workloads/{id}/logs?stream=stderr");

        var body = await link!.Content.ReadAsStringAsync();
        Assert.Contains("stdout.log is a symbolic link", body);
        Assert.DoesNotContain("root:", body);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, fifo.StatusCode);
        Assert.Contains("stderr.log is not a regular file", await fifo.Content.ReadAsStringAsync());
        link.Dispose();
        (await http.DeleteAsync($"/api/vm/vms/{id}")).EnsureSuccessStatusCode();
    }
}
