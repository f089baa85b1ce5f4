using System.Diagnostics;
using System.Text;

namespace Platform.IntegrationTests;

/// <summary>Compute killed with SIGKILL while a workload runs: the AppHost restarts it and it carries on from the database and the agents.</summary>
public sealed class ComputeKillTests
{
    [Fact]
    public async Task A_restarted_Compute_still_knows_the_running_workload_and_reaches_its_agent_again()
    {
        await using var platform = await PlatformProcess.StartAsync(nodes: 1);
        using var http = platform.CreateHttpClient();
        var id = (await WorkloadTests.CreateAsync(http, "steady", "exec sleep 600")).GetProperty("workloadId").GetString()!;
        var pid = (await WorkloadTests.WaitForAsync(http, id, "active")).GetProperty("pid").GetInt32();

        Process.GetProcessById(platform.Pids["compute"]).Kill();
        await TestSupport.Eventually.HoldsAsync(async () =>
            platform.Output.Contains("compute exited with code") && (await http.GetAsync($"/api/vm/vms/{id}")).IsSuccessStatusCode,
            "Compute restarted and answering", TimeSpan.FromSeconds(60));

        Assert.Equal(pid, (await WorkloadTests.WaitForAsync(http, id, "active")).GetProperty("pid").GetInt32());
        Assert.Contains(ProcessTable.WithEnvironment("WORKLOAD_ID", id), p => p.Pid == pid);
        // The agent's watch stream found the new Compute: a pause asked of it reaches the same process.
        using (var pause = await http.PostAsync($"/api/vm/vms/{id}/pause", new StringContent("{}", Encoding.UTF8, "application/json")))
            pause.EnsureSuccessStatusCode();
        Assert.Equal(pid, (await WorkloadTests.WaitForAsync(http, id, "paused")).GetProperty("pid").GetInt32());
    }
}
