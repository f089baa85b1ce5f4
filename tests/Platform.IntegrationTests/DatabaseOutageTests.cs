using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// PostgreSQL frozen (SIGSTOP, the way a stalled disk or a paused VM leaves it: connections open, nothing answers) for
/// longer than a node's lease and grace period together, under a running platform with a workload: afterwards every
/// service is healthy again without a restart, no node was marked Down, and the workload stayed where it ran.
/// </summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task PostgreSQL_frozen_past_every_lease_marks_no_node_Down_and_moves_no_workload()
    {
        // Leases of 10 s (two heartbeats) + 5 s grace, so 30 s of freeze is twice what would make a node Down.
        var leases = new Dictionary<string, string> { ["Compute__Leases__Duration"] = "00:00:10", ["Compute__Leases__DownAfter"] = "00:00:05" };
        await using var platform = await PlatformProcess.StartAsync(environment: leases);
        using var http = platform.CreateHttpClient();
        var id = (await WorkloadTests.CreateAsync(http, "through-the-outage", "exec sleep 600")).GetProperty("workloadId").GetString()!;
        var before = await WorkloadTests.WaitForAsync(http, id, "active");

        var postgres = platform.LiveProcesses().Where(p => p.Command == "postgres").Select(p => p.Pid).ToList();
        Assert.NotEmpty(postgres);
        Signal("STOP", postgres);
        await Task.Delay(TimeSpan.FromSeconds(30));
        Signal("CONT", postgres);

        using var anonymous = platform.CreateAnonymousHttpClient();
        await TestSupport.Eventually.HoldsAsync(async () => (await anonymous.GetAsync("/health")).IsSuccessStatusCode, "every service healthy again", TimeSpan.FromSeconds(60));
        // Leases are judged again once PostgreSQL has answered for a lease plus the agents' longest retry (10 + 30 s).
        await Task.Delay(TimeSpan.FromSeconds(45));

        // A heartbeat late on a loaded machine may leave a node NotReady for a moment; Down it never is.
        Assert.DoesNotContain("is Down", platform.Output);
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            using var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes"));
            return nodes.RootElement.GetProperty("nodes").EnumerateArray().All(node => node.GetProperty("status").GetString() == "Ready");
        }, "both nodes Ready");
        var after = await WorkloadTests.WaitForAsync(http, id, "active");
        Assert.Equal(before.GetProperty("nodeId").GetString(), after.GetProperty("nodeId").GetString());
        Assert.Equal(before.GetProperty("pid").GetInt32(), after.GetProperty("pid").GetInt32());
        using var operations = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{id}/operations"));
        Assert.Equal(["create"], operations.RootElement.GetProperty("operations").EnumerateArray().Select(o => o.GetProperty("action").GetString()));
    }

    static void Signal(string signal, IEnumerable<int> pids)
    {
        foreach (var pid in pids) System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString()])!.WaitForExit();
    }
}
