using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.IntegrationTests;

/// <summary>Migrations through the gateway between the AppHost's two real NodeAgents, moving real processes and their folders.</summary>
[Collection(PlatformCollection.Name)]
public sealed class MigrationTests(PlatformFixture fixture)
{
    // Counts on from the number in its folder; keeps a 3 MiB file of random bytes (incompressible) beside it.
    const string Counter = "[ -f data ] || head -c 3145728 /dev/urandom > data; i=$(cat count 2>/dev/null || echo 0); " +
                           "while :; do i=$((i+1)); echo $i > count.tmp && mv count.tmp count; echo tick $i; sleep 0.1; done";

    sealed record Node(string Id, string Name);

    async Task<(Node A, Node B)> NodesAsync(HttpClient http)
    {
        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray()
            .Select(n => new Node(n.GetProperty("nodeId").GetString()!, n.GetProperty("name").GetString()!)).OrderBy(n => n.Name).ToList();
        Assert.True(nodes.Count >= 2, "the AppHost runs two nodes");
        return (nodes[0], nodes[1]);
    }

    string Folder(Node node, string sub, string id) => Path.Combine(fixture.Platform.DataDirectory, "nodes", node.Name, sub, id);

    static async Task<JsonElement> CreateOnAsync(HttpClient http, Node node, string name, string script)
    {
        using var response = await http.PostAsJsonAsync("/api/compute/workloads", new
        {
            name, command = "sh", args = new[] { "-c", script }, cpuMillis = 100, memoryBytes = 64L << 20, nodeId = node.Id,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("workload").Clone();
    }

    /// <summary>A counter started on <paramref name="node"/>, active and counting: its id and its state when it became active.</summary>
    async Task<(string Id, JsonElement Active)> StartCounterAsync(HttpClient http, Node node, string name)
    {
        var id = (await CreateOnAsync(http, node, name, Counter)).GetProperty("workloadId").GetString()!;
        var active = await WorkloadTests.WaitForAsync(http, id, "active");
        var folder = Folder(node, "workloads", id);
        await Eventually.HoldsAsync(() => File.Exists(Path.Combine(folder, "count")) && Count(folder) >= 5, "counting on the source");
        return (id, active);
    }

    static async Task<JsonElement> MigrateAsync(HttpClient http, string id, object request)
    {
        using var response = await http.PostAsJsonAsync($"/api/compute/workloads/{id}/migrate", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("migration").Clone();
    }

    static async Task<JsonElement> MigrationAsync(HttpClient http, string migrationId) =>
        JsonDocument.Parse(await http.GetStringAsync($"/api/compute/migrations/{migrationId}")).RootElement.Clone();

    static async Task<JsonElement> WaitForPhaseAsync(HttpClient http, string migrationId, string phase)
    {
        JsonElement migration = default;
        await Eventually.HoldsAsync(async () =>
        {
            migration = await MigrationAsync(http, migrationId);
            var now = migration.GetProperty("phase").GetString();
            Assert.True(now == phase || now is not ("failed" or "aborted"), $"migration {now}: {migration.GetProperty("error")}");
            return now == phase;
        }, $"migration {phase}", TimeSpan.FromSeconds(60));
        return migration;
    }

    /// <summary>Protobuf's JSON writes 64-bit integers as strings.</summary>
    static long Int64(JsonElement element, string name) => long.Parse(element.GetProperty(name).GetString()!);

    static int Count(string folder) => int.Parse(File.ReadAllText(Path.Combine(folder, "count")).Trim());

    [Theory]
    [InlineData("cold")]
    [InlineData("warm")]
    public async Task A_running_workload_moves_to_the_other_node_with_its_folder_and_goes_on_where_it_stopped(string type)
    {
        using var http = fixture.Platform.CreateHttpClient();
        var (a, b) = await NodesAsync(http);
        var (id, before) = await StartCounterAsync(http, a, $"counter-{type}");
        var sourceFolder = Folder(a, "workloads", id);

        var migration = await MigrateAsync(http, id, new { targetNodeId = b.Id, type, compressionLevel = 3 });
        var done = await WaitForPhaseAsync(http, migration.GetProperty("migrationId").GetString()!, "completed");

        var after = await WorkloadTests.WaitForAsync(http, id, "active");
        Assert.Equal((b.Id, "running"), (after.GetProperty("nodeId").GetString(), after.GetProperty("powerState").GetString()));
        Assert.NotEqual(before.GetProperty("pid").GetInt32(), after.GetProperty("pid").GetInt32());
        var targetFolder = Folder(b, "workloads", id);
        var counted = Count(targetFolder);
        await Eventually.HoldsAsync(() => Count(targetFolder) > counted, "counting on the target");
        // It went on from its own count: the log it brought along says "tick 1" once, and its data file came whole.
        var log = (await http.GetFromJsonAsync<JsonElement>($"/api/compute/workloads/{id}/logs")).GetProperty("text").GetString()!;
        Assert.Single(log.Split('\n'), line => line == "tick 1");
        Assert.Equal(3145728, new FileInfo(Path.Combine(targetFolder, "data")).Length);
        // The source's copy is gone once the target runs it, and so is the target's staging.
        await Eventually.HoldsAsync(() => !Directory.Exists(sourceFolder), "the source copy removed");
        Assert.False(Directory.Exists(Folder(b, "migrations", done.GetProperty("migrationId").GetString()!)));

        Assert.True(Int64(done, "bytesTotal") >= 3145728);
        Assert.True(Int64(done, "bytesSent") > 3_000_000, "the random data crossed once");
        Assert.True(Int64(done, "downtimeMs") > 0);
        if (type == "warm")
        {
            Assert.True(done.GetProperty("rounds").GetInt32() >= 2, "pre-copy, then the final delta");
            Assert.True(Int64(done, "bytesSaved") > 3_000_000, "the final round did not send the data again");
        }
        (await http.DeleteAsync($"/api/compute/workloads/{id}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task An_aborted_migration_leaves_the_workload_running_on_its_source_and_nothing_on_the_target()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var (a, b) = await NodesAsync(http);
        var (id, _) = await StartCounterAsync(http, a, "abortable");
        var sourceFolder = Folder(a, "workloads", id);

        // 3 MiB at 64 KiB/s: about 48 s of copying, aborted a few blocks in.
        var migrationId = (await MigrateAsync(http, id, new { targetNodeId = b.Id, type = "cold", bandwidthLimitBytesPerSecond = 65536 }))
            .GetProperty("migrationId").GetString()!;
        await Eventually.HoldsAsync(async () => Int64(await MigrationAsync(http, migrationId), "bytesSent") > 0, "blocks on the wire");
        Assert.True(Directory.Exists(Folder(b, "migrations", migrationId)), "the target stages what it received");

        using var abort = await http.PostAsJsonAsync($"/api/compute/migrations/{migrationId}/abort", new { });
        Assert.True(abort.IsSuccessStatusCode, await abort.Content.ReadAsStringAsync());
        Assert.Equal("aborted", (await MigrationAsync(http, migrationId)).GetProperty("phase").GetString());

        // Back to running on the source (the cold migration had stopped it), counting on from its own number.
        await Eventually.HoldsAsync(async () =>
        {
            var workload = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{id}")).RootElement;
            return workload.GetProperty("nodeId").GetString() == a.Id && workload.GetProperty("powerState").GetString() == "running"
                && workload.GetProperty("taskState").GetString() == "";
        }, "running on the source again");
        var counted = Count(sourceFolder);
        await Eventually.HoldsAsync(() => Count(sourceFolder) > counted, "counting on the source again");
        await Eventually.HoldsAsync(() => !Directory.Exists(Folder(b, "migrations", migrationId)), "the target's staging discarded");
        Assert.False(Directory.Exists(Folder(b, "workloads", id)));
        var operations = JsonDocument.Parse(await http.GetStringAsync($"/api/compute/workloads/{id}/operations")).RootElement.GetProperty("operations");
        Assert.Contains(operations.EnumerateArray(), o => o.GetProperty("action").GetString() == "migrate" && o.GetProperty("status").GetString() == "failed"
            && o.GetProperty("error").GetString()!.Contains("aborted"));
        (await http.DeleteAsync($"/api/compute/workloads/{id}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_migration_whose_source_agent_is_killed_resumes_when_it_returns_without_sending_again_what_arrived()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var (a, b) = await NodesAsync(http);
        var (id, _) = await StartCounterAsync(http, a, "resumable");

        // 3 MiB at 256 KiB/s: about 12 s of copying; the source's agent dies a few blocks in.
        var migrationId = (await MigrateAsync(http, id, new { targetNodeId = b.Id, type = "cold", bandwidthLimitBytesPerSecond = 262144 }))
            .GetProperty("migrationId").GetString()!;
        var blocks = Path.Combine(Folder(b, "migrations", migrationId), "blocks");
        await Eventually.HoldsAsync(() => Directory.Exists(blocks) && Directory.EnumerateFiles(blocks).Count(f => !f.EndsWith(".tmp")) >= 1, "blocks on the target");
        System.Diagnostics.Process.GetProcessById(fixture.Platform.Pids[a.Name]).Kill();
        var arrived = Directory.EnumerateFiles(blocks).Where(f => !f.EndsWith(".tmp")).Select(Path.GetFileName).ToHashSet();

        var done = await WaitForPhaseAsync(http, migrationId, "completed");
        var after = await WorkloadTests.WaitForAsync(http, id, "active");
        Assert.Equal(b.Id, after.GetProperty("nodeId").GetString());
        Assert.Equal(3145728, new FileInfo(Path.Combine(Folder(b, "workloads", id), "data")).Length);
        // The restarted agent resumed: what had arrived was not sent again.
        Assert.Contains($"Migration {migrationId} round 1:", fixture.Platform.Output);
        var resumedRound = fixture.Platform.Output.Split('\n').Last(l => l.Contains($"Migration {migrationId} round 1:"));
        var skipped = int.Parse(System.Text.RegularExpressions.Regex.Match(resumedRound, @"(\d+) already there").Groups[1].Value);
        Assert.True(skipped >= arrived.Count && arrived.Count >= 1, $"{skipped} blocks skipped, {arrived.Count} had arrived: {resumedRound}");
        // Counted across both runs, the data sent once: at least what the resumed run sent (the blocks it skipped were
        // sent by the killed run, whose last progress report may not have reached Compute), at most the data twice.
        Assert.InRange(Int64(done, "bytesSent"), 3_145_728 - skipped * 1_048_576L - 65_536, 2 * 3_145_728);
        (await http.DeleteAsync($"/api/compute/workloads/{id}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Live_migration_is_refused_here_with_the_reason_criu_gave()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var (a, b) = await NodesAsync(http);
        var id = (await CreateOnAsync(http, a, "not-live", "exec sleep 600")).GetProperty("workloadId").GetString()!;
        await WorkloadTests.WaitForAsync(http, id, "active");

        using var response = await http.PostAsJsonAsync($"/api/compute/workloads/{id}/migrate", new { targetNodeId = b.Id, type = "live" });

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Live migration is not possible", await response.Content.ReadAsStringAsync());
        (await http.DeleteAsync($"/api/compute/workloads/{id}")).EnsureSuccessStatusCode();
    }
}
