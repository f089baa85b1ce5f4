using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Platform.Compute.V1;
using Platform.Scheduler.V1;
using Platform.TestSupport;

namespace Platform.Scheduler.Tests;

/// <summary>The queue's API: seed 003's REST shape, bad input, who sees what, updates, priorities and blockers.</summary>
public sealed class JobQueueTests : IAsyncLifetime
{
    SchedulerWorld world = null!;

    // The loop solves once an hour here: jobs stay pending, so the queue itself is what is tested.
    public async Task InitializeAsync() => world = await SchedulerWorld.StartAsync(new Dictionary<string, string> { ["Scheduler:Placement:Interval"] = "01:00:00" });

    public async Task DisposeAsync() => await world.DisposeAsync();

    HttpClient Http(string user = "olga", string role = "operator") => world.Scheduler.Http(TestInfrastructure.Token(user, role));

    [Fact]
    public async Task Seed_003s_submit_answers_success_job_id_status_and_sla()
    {
        using var response = await Http().PostAsJsonAsync("/api/scheduler/jobs",
            new { name = "test-job", sla_tier = "gold", cpu_required = 4.0, memory_required = 8192, command = "sleep", args = new[] { "1" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((true, "pending", "gold"), (body.GetProperty("success").GetBoolean(), body.GetProperty("status").GetString(), body.GetProperty("sla").GetString()));
        var jobId = body.GetProperty("jobId").GetString();
        var job = JsonDocument.Parse(await Http().GetStringAsync($"/api/scheduler/jobs/{jobId}")).RootElement;
        Assert.Equal((4.0, "8192", "olga"), (job.GetProperty("cpuRequired").GetDouble(), job.GetProperty("memoryRequired").GetString(), job.GetProperty("owner").GetString()));
        // Arguments are written, never read back.
        Assert.Equal("(redacted)", job.GetProperty("args")[0].GetString());
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_every_field_and_nothing_is_stored()
    {
        using var response = await Http().PostAsJsonAsync("/api/scheduler/jobs", new
        {
            name = "", sla_tier = "platinum", cpu_required = -1, memory_required = -5, estimated_runtime_seconds = -1, deadline_ms = 1000,
            driver = "docker", depends_on = new[] { "not-a-uuid" }, node_selector = new Dictionary<string, string> { [""] = "x" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        foreach (var field in new[] { "name", "sla_tier", "cpu_required", "memory_required", "estimated_runtime_seconds", "deadline_ms", "driver", "depends_on", "node_selector" })
            Assert.Contains($"\"{field}\"", text);

        using var unknownDependency = await Http().PostAsJsonAsync("/api/scheduler/jobs", new { name = "late", command = "true", depends_on = new[] { Guid.NewGuid() } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownDependency.StatusCode);
        Assert.Contains("depends_on", await unknownDependency.Content.ReadAsStringAsync());
        using var badPage = await Http().GetAsync("/api/scheduler/jobs?pageToken=forged&pageSize=9999");
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);

        Assert.Empty((await world.Jobs().ListJobsAsync(new ListJobsRequest())).Jobs);
        Assert.Equal(0, (await world.Jobs().GetStatsAsync(new GetStatsRequest())).TotalJobs);
    }

    [Fact]
    public async Task Viewers_cannot_submit_and_see_only_their_own_jobs()
    {
        var forbidden = await Assert.ThrowsAsync<RpcException>(() => world.Jobs("vera", "viewer").SubmitJobAsync(new SubmitJobRequest { Name = "x", Command = "true" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, forbidden.StatusCode);
        var olgas = await world.Jobs("olga").SubmitJobAsync(new SubmitJobRequest { Name = "olgas", Command = "true" });
        await world.Jobs("otto").SubmitJobAsync(new SubmitJobRequest { Name = "ottos", Command = "true" });

        Assert.Empty((await world.Jobs("vera", "viewer").ListJobsAsync(new ListJobsRequest())).Jobs);
        Assert.Equal(["olgas"], (await world.Jobs("olga", "viewer").ListJobsAsync(new ListJobsRequest { Owner = "otto" })).Jobs.Select(j => j.Name));
        var hidden = await Assert.ThrowsAsync<RpcException>(() => world.Jobs("vera", "viewer").GetJobAsync(new JobRequest { JobId = olgas.JobId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(2, (await world.Jobs("ada", "admin").ListJobsAsync(new ListJobsRequest())).Jobs.Count);
    }

    [Fact]
    public async Task Lists_page_through_every_job_newest_first()
    {
        for (var i = 0; i < 5; i++) await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = $"job-{i}", Command = "true", SlaTier = i % 2 == 0 ? "gold" : "bronze" });
        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await world.Jobs().ListJobsAsync(new ListJobsRequest { PageSize = 2, PageToken = token });
            seen.AddRange(page.Jobs.Select(j => j.Name));
            token = page.NextPageToken;
        } while (token != "");
        Assert.Equal(["job-4", "job-3", "job-2", "job-1", "job-0"], seen);
        Assert.Equal(3, (await world.Jobs().ListJobsAsync(new ListJobsRequest { SlaTier = "gold" })).Jobs.Count);
        var stats = await world.Jobs().GetStatsAsync(new GetStatsRequest());
        Assert.Equal((5, 3, 2), (stats.QueueLength, stats.QueueByTier["gold"], stats.QueueByTier["bronze"]));
    }

    [Fact]
    public async Task A_pending_job_can_be_changed_and_its_priority_shows_each_factor()
    {
        var job = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "tune", Command = "true" });
        using var patch = await Http().PatchAsJsonAsync($"/api/scheduler/jobs/{job.JobId}", new { sla_tier = "gold", cpu_required = 2.5 });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var changed = await world.Jobs().GetJobAsync(new JobRequest { JobId = job.JobId });
        Assert.Equal(("gold", 2.5), (changed.SlaTier, changed.CpuRequired));
        Assert.Contains(changed.History, h => h.Reason == "updated");
        using var bad = await Http().PatchAsJsonAsync($"/api/scheduler/jobs/{job.JobId}", new { sla_tier = "tin" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var priority = await world.Jobs().GetJobPriorityAsync(new JobRequest { JobId = job.JobId });
        Assert.Equal(["tier", "age", "size", "fair-share"], priority.Factors.Select(f => f.Name));
        Assert.All(priority.Factors, f => Assert.InRange(f.Factor, 0, 1));
        Assert.Equal((1.0, 1000.0), (priority.Factors[0].Factor, priority.Factors[0].Weight));
        Assert.Equal(priority.Factors.Sum(f => f.Contribution), priority.Priority, 6);

        await world.Jobs().CancelJobAsync(new JobRequest { JobId = job.JobId });
        using var late = await Http().PatchAsJsonAsync($"/api/scheduler/jobs/{job.JobId}", new { name = "again" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("cancelled", await late.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_job_that_fits_nowhere_says_why_for_every_node()
    {
        await world.AddNodeAsync("small", cores: 2, labels: new() { ["zone"] = "a" });
        var cordoned = await world.AddNodeAsync("big", cores: 16, labels: new() { ["zone"] = "b" });
        await new Compute.V1.Compute.ComputeClient(world.ComputeChannel(TestInfrastructure.Token("olga", "operator")))
            .CordonNodeAsync(new NodeActionRequest { NodeId = cordoned.NodeId, Reason = "maintenance" });
        var job = await world.Jobs().SubmitJobAsync(new SubmitJobRequest
        {
            Name = "huge", Command = "true", CpuRequired = 8, MemoryRequired = 1024, Driver = "sandbox", NodeSelector = { ["zone"] = "b" },
        });

        var explained = await world.Jobs().GetJobAsync(new JobRequest { JobId = job.JobId });
        var small = explained.Blockers.Single(b => b.NodeName == "small").Blockers.Select(b => b.Constraint).ToList();
        var big = explained.Blockers.Single(b => b.NodeName == "big").Blockers.Select(b => b.Constraint).ToList();
        Assert.Equal(["driver", "label", "cpu"], small);
        Assert.Equal(["cordoned", "driver"], big);
        Assert.Equal(0, explained.EstimatedStartMs);
        Assert.Contains("no node can ever take it", explained.EstimateBasis);

        var fits = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "fits", Command = "true", CpuRequired = 1 });
        var now = await world.Jobs().GetJobAsync(new JobRequest { JobId = fits.JobId });
        Assert.Contains("small", now.EstimateBasis);
        Assert.True(now.EstimatedStartMs > 0);
    }
}
