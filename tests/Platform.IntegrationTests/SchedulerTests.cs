using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>Jobs through the gateway, placed by the Scheduler and run as real processes by the AppHost's real NodeAgents.</summary>
[Collection(PlatformCollection.Name)]
public sealed class SchedulerTests(PlatformFixture fixture)
{
    static async Task<string> SubmitAsync(HttpClient http, string name, string script, string tier = "silver")
    {
        using var response = await http.PostAsJsonAsync("/api/scheduler/jobs", new
        {
            name, sla_tier = tier, cpu_required = 0.1, memory_required = 64, command = "sh", args = new[] { "-c", script }, estimated_runtime_seconds = 5,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("jobId").GetString()!;
    }

    static async Task<JsonElement> WaitForAsync(HttpClient http, string jobId, string status)
    {
        JsonElement job = default;
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            job = JsonDocument.Parse(await http.GetStringAsync($"/api/scheduler/jobs/{jobId}")).RootElement.Clone();
            return job.GetProperty("status").GetString() == status;
        }, $"job {jobId} {status}", TimeSpan.FromSeconds(90));
        return job;
    }

    [Fact]
    public async Task Jobs_run_on_the_real_agents_to_their_exit_codes_and_a_cancelled_one_stops_its_process()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var succeeding = await SubmitAsync(http, "succeeds", "echo done", "gold");
        var failing = await SubmitAsync(http, "fails", "exit 7");
        var long_running = await SubmitAsync(http, "sleeps", "exec sleep 600", "bronze");

        var completed = await WaitForAsync(http, succeeding, "completed");
        Assert.Equal(0, completed.GetProperty("exitCode").GetInt32());
        Assert.Equal(["pending", "scheduled", "running", "completed"],
            completed.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()));
        Assert.Equal(7, (await WaitForAsync(http, failing, "failed")).GetProperty("exitCode").GetInt32());

        var running = await WaitForAsync(http, long_running, "running");
        var workloadId = running.GetProperty("workloadId").GetString();
        var pid = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{workloadId}")).RootElement.GetProperty("pid").GetInt32();
        Assert.True(Directory.Exists($"/proc/{pid}"));
        using (var cancel = await http.DeleteAsync($"/api/scheduler/jobs/{long_running}"))
            Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());
        await TestSupport.Eventually.HoldsAsync(() => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "), "the cancelled job's process gone");

        var stats = JsonDocument.Parse(await http.GetStringAsync("/api/scheduler/stats")).RootElement;
        Assert.True(stats.GetProperty("totalJobs").GetInt32() >= 3);
        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/scheduler/nodes")).RootElement.GetProperty("nodes");
        Assert.True(nodes.GetArrayLength() >= 2);
        var decision = JsonDocument.Parse(await http.GetStringAsync("/api/scheduler/decisions/latest")).RootElement;
        Assert.True(decision.GetProperty("front").GetArrayLength() >= 1);
        // The seed's summary counts the queue from the Scheduler's own figures.
        var summary = JsonDocument.Parse(await http.GetStringAsync("/api/dashboard/stats")).RootElement.GetProperty("scheduler");
        Assert.True(summary.GetProperty("totalJobs").GetInt32() >= 3);
    }
}
