using System.Diagnostics;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>A NodeAgent killed with SIGKILL while its workload runs: the AppHost restarts it and it re-attaches.</summary>
public sealed class AgentRestartTests
{
    [Fact]
    public async Task A_restarted_agent_re_attaches_to_its_running_workload_without_starting_a_second_copy()
    {
        await using var platform = await PlatformProcess.StartAsync(nodes: 1);
        using var http = platform.CreateHttpClient();
        var id = (await WorkloadTests.CreateAsync(http, "survivor", "exec sleep 600")).GetProperty("workloadId").GetString()!;
        var pid = (await WorkloadTests.WaitForAsync(http, id, "active")).GetProperty("pid").GetInt32();

        Process.GetProcessById(platform.Pids["node-0"]).Kill();
        await TestSupport.Eventually.HoldsAsync(() => platform.Output.Contains($"Re-attached to workload survivor ({id}), pid {pid}"), "the new agent re-attached", TimeSpan.FromSeconds(60));
        // A change after the restart reaches the new agent and the same process.
        using (var pause = await http.PostAsync($"/api/vm/vms/{id}/pause", JsonContent()))
            pause.EnsureSuccessStatusCode();
        var paused = await WorkloadTests.WaitForAsync(http, id, "paused");

        Assert.Equal(pid, paused.GetProperty("pid").GetInt32());
        // One copy: every process of the workload (its wrapper and sleep) is in the session the first agent started.
        Assert.Equal([pid], ProcessTable.WithEnvironment("WORKLOAD_ID", id).Select(p => Session(p.Pid)).Distinct());
        Assert.Equal(0, paused.GetProperty("restarts").GetInt32());
    }

    static int Session(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3]);
    }

    static StringContent JsonContent() => new("{}", System.Text.Encoding.UTF8, "application/json");
}
