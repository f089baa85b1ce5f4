using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>Workloads through the gateway on the AppHost's real NodeAgents, running real processes.</summary>
[Collection(PlatformCollection.Name)]
public sealed class WorkloadTests(PlatformFixture fixture)
{
    internal static async Task<JsonElement> CreateAsync(HttpClient http, string name, string script, string restartPolicy = "never")
    {
        using var response = await http.PostAsJsonAsync("/api/vm/vms", new
        {
            name, command = "sh", args = new[] { "-c", script }, cpuMillis = 100, memoryBytes = 64L << 20, restartPolicy,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("workload").Clone();
    }

    internal static async Task<JsonElement> WaitForAsync(HttpClient http, string id, string vmState)
    {
        JsonElement workload = default;
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            workload = JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{id}")).RootElement.Clone();
            return workload.GetProperty("vmState").GetString() == vmState && workload.GetProperty("taskState").GetString() == "";
        }, $"workload {id} {vmState}");
        return workload;
    }

    static async Task ActAsync(HttpClient http, string id, string action)
    {
        using var response = await http.PostAsJsonAsync($"/api/vm/vms/{id}/{action}", new { });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The process's state letter from /proc (S sleeping, T stopped, ...), '-' when it is gone.</summary>
    static char ProcessState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return '-';
        }
    }

    [Fact]
    public async Task A_workload_runs_as_a_real_process_pauses_resumes_stops_and_is_deleted()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var id = (await CreateAsync(http, "lifecycle", "echo started; exec sleep 600")).GetProperty("workloadId").GetString()!;

        var active = await WaitForAsync(http, id, "active");
        var pid = active.GetProperty("pid").GetInt32();
        Assert.Equal("running", active.GetProperty("powerState").GetString());
        Assert.Equal('S', ProcessState(pid));
        var node = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/nodes/{active.GetProperty("nodeId").GetString()}")).RootElement;
        var folder = Path.Combine(fixture.Platform.DataDirectory, "nodes", node.GetProperty("name").GetString()!, "workloads", id);
        await TestSupport.Eventually.HoldsAsync(() => File.Exists(Path.Combine(folder, "stdout.log")) && File.ReadAllText(Path.Combine(folder, "stdout.log")) == "started\n", "its output in its folder");

        // Its use reaches Telemetry with the machine's, labelled with the workload.
        await TestSupport.Eventually.HoldsAsync(async () => JsonDocument.Parse(await http.GetStringAsync(
            $"/api/telemetry/query_range?name=workload_memory_rss_bytes&match=workload_id%3D{id}&stepMs=60000&aggregation=max")).RootElement
            .GetProperty("series").EnumerateArray().Any(s => s.GetProperty("points").EnumerateArray().Any(p => p.GetProperty("value").GetDouble() > 0)),
            "workload samples in Telemetry", TimeSpan.FromSeconds(60));

        await ActAsync(http, id, "pause");
        await WaitForAsync(http, id, "paused");
        Assert.Equal('T', ProcessState(pid));
        await ActAsync(http, id, "resume");
        await WaitForAsync(http, id, "active");
        Assert.NotEqual('T', ProcessState(pid));

        await ActAsync(http, id, "stop");
        var stopped = await WaitForAsync(http, id, "stopped");
        Assert.Equal(143, stopped.GetProperty("exitCode").GetInt32()); // sleep ended by SIGTERM
        Assert.Empty(ProcessTable.WithEnvironment("WORKLOAD_ID", id));

        (await http.DeleteAsync($"/api/vm/vms/{id}")).EnsureSuccessStatusCode();
        await TestSupport.Eventually.HoldsAsync(async () =>
            JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{id}")).RootElement.GetProperty("vmState").GetString() == "deleted", "deleted");
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task A_workload_that_exits_with_an_error_is_in_error_with_its_exit_code_and_a_restart_policy_restarts_it()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var failing = (await CreateAsync(http, "failing", "sleep 0.2; exit 3")).GetProperty("workloadId").GetString()!;
        var flapping = (await CreateAsync(http, "flapping", "sleep 0.2; exit 1", restartPolicy: "on-failure")).GetProperty("workloadId").GetString()!;

        var failed = await WaitForAsync(http, failing, "error");
        Assert.Equal((3, "crashed"), (failed.GetProperty("exitCode").GetInt32(), failed.GetProperty("powerState").GetString()));
        await TestSupport.Eventually.HoldsAsync(async () =>
            JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{flapping}")).RootElement.TryGetProperty("restarts", out var restarts) && restarts.GetInt32() >= 2,
            "restarted twice");
        Assert.Equal("active", JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{flapping}")).RootElement.GetProperty("vmState").GetString());
        (await http.DeleteAsync($"/api/vm/vms/{flapping}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_vm_on_a_node_without_kvm_boots_its_image_and_runs()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray();
        Assert.All(nodes, node => Assert.Equal("tcg", node.GetProperty("drivers").EnumerateArray()
            .Single(d => d.GetProperty("name").GetString() == "qemu").GetProperty("attributes").GetProperty("accelerator").GetString()));
        // The operator puts the image in the platform's image store; the workload names it.
        var image = $"boot-{Guid.NewGuid():N}.img";
        TestSupport.BootImage.Write(Path.Combine(Directory.CreateDirectory(Path.Combine(fixture.Platform.DataDirectory, "images")).FullName, image));

        using var response = await http.PostAsJsonAsync("/api/vm/vms", new { name = "tcg-vm", driver = "qemu", image, cpuMillis = 1000, memoryBytes = 64L << 20 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("workload").GetProperty("workloadId").GetString()!;

        var active = await WaitForAsync(http, id, "active");
        Assert.Equal("running", active.GetProperty("powerState").GetString());
        // The guest's boot sector greets on the serial console, which is the workload's log.
        await TestSupport.Eventually.HoldsAsync(async () =>
            JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{id}/logs")).RootElement.GetProperty("text").GetString()!.Contains(TestSupport.BootImage.Greeting),
            "the guest booted");
        Assert.Equal("running", JsonDocument.Parse(await http.GetStringAsync($"/api/vm/vms/{id}")).RootElement.GetProperty("powerState").GetString());
        (await http.DeleteAsync($"/api/vm/vms/{id}")).EnsureSuccessStatusCode();
    }
}
