using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Npgsql;
using Platform.Compute.V1;
using Platform.Scheduler.V1;
using Platform.TestSupport;

namespace Platform.Scheduler.Tests;

/// <summary>A crash mid-dispatch, gold preempting bronze, and who may change how a solution is chosen.</summary>
public sealed class PlacementPolicyTests : IAsyncLifetime
{
    SchedulerWorld world = null!;

    public async Task InitializeAsync() => world = await SchedulerWorld.StartAsync();

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task A_scheduler_that_crashed_after_Compute_created_the_workload_but_before_recording_it_makes_no_twin()
    {
        var node = await world.AddNodeAsync("worker-a");
        world.StartWorkloads = false;
        var submitted = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "once", Command = "sleep", Args = { "60" } });
        Job dispatched = null!;
        await Eventually.HoldsAsync(async () => (dispatched = await world.Jobs().GetJobAsync(new JobRequest { JobId = submitted.JobId })).WorkloadId != "", "the job dispatched");

        // The crash: Compute made the workload, the Scheduler died before writing down which; it comes back.
        await world.RestartSchedulerAsync(new Dictionary<string, string>(), async () =>
        {
            await using var db = NpgsqlDataSource.Create(world.Scheduler.ConnectionString);
            await db.CreateCommand($"UPDATE scheduler.jobs SET workload_id = NULL WHERE job_id = '{submitted.JobId}'").ExecuteNonQueryAsync();
        });
        world.StartWorkloads = true;

        var running = await world.WaitForAsync(submitted.JobId, "running");
        Assert.Equal((dispatched.WorkloadId, 1), (running.WorkloadId, running.Attempts));
        var workloads = await world.Workloads.ListWorkloadsAsync(new ListWorkloadsRequest { Label = $"scheduler-job={submitted.JobId}", IncludeDeleted = true });
        Assert.Single(workloads.Workloads);
        await world.ExitAsync(node.NodeId, running.WorkloadId, 0);
        await world.WaitForAsync(submitted.JobId, "completed");
    }

    [Fact]
    public async Task A_gold_job_preempts_a_preemptible_bronze_job_that_holds_the_room_it_needs()
    {
        await world.AddNodeAsync("only", cores: 2);
        var bronze = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "batch", Command = "sleep", CpuRequired = 2, Preemptible = true, SlaTier = "bronze" });
        await world.WaitForAsync(bronze.JobId, "running");

        var gold = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "urgent", Command = "sleep", CpuRequired = 2, SlaTier = "gold" });
        await world.WaitForAsync(gold.JobId, "running");
        var preempted = await world.Jobs().GetJobAsync(new JobRequest { JobId = bronze.JobId });
        Assert.Equal(("pending", "preempted", 1), (preempted.Status, preempted.Reason, preempted.Attempts));
        Assert.Contains(preempted.History, h => h.Status == "preempted" && h.Message.Contains(gold.JobId));
        Assert.Contains(preempted.Blockers.Single().Blockers, b => b.Constraint == "cpu");
    }

    [Fact]
    public async Task Objective_weights_are_changed_by_admins_and_by_Tokenomics_only_and_checked()
    {
        var weights = new ObjectiveWeights { Makespan = 1, Cost = 2, Energy = 3, SlaLateness = 4, Imbalance = 0 };
        var set = await world.Placements().SetObjectiveWeightsAsync(weights);
        Assert.Equal((4.0, "ada"), (set.SlaLateness, set.ChangedBy));

        var operatorCall = await Assert.ThrowsAsync<RpcException>(() => world.Placements("olga", "operator").SetObjectiveWeightsAsync(weights).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, operatorCall.StatusCode);
        var otherService = await Assert.ThrowsAsync<RpcException>(() => world.Placements("compute", "service").SetObjectiveWeightsAsync(weights).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, otherService.StatusCode);
        Assert.Equal("tokenomics", (await world.Placements("tokenomics", "service").SetObjectiveWeightsAsync(weights)).ChangedBy);

        using var http = world.Scheduler.Http(TestInfrastructure.Token("ada", "admin"));
        using var bad = await http.PutAsJsonAsync("/api/scheduler/objective-weights", new { makespan = -1, cost = 0, energy = 0, slaLateness = 0, imbalance = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("makespan", await bad.Content.ReadAsStringAsync());
        Assert.Equal(4.0, (await world.Placements("vera", "viewer").GetObjectiveWeightsAsync(new GetObjectiveWeightsRequest())).SlaLateness);
    }

    [Fact]
    public async Task Jobs_no_node_can_take_never_crowd_out_those_that_fit_and_absurd_capacity_is_refused()
    {
        await world.RestartSchedulerAsync(new Dictionary<string, string> { ["Scheduler:Placement:MaxBatch"] = "2" });
        // An agent may claim any capacity: Compute refuses figures past any machine's.
        var absurd = await Assert.ThrowsAsync<RpcException>(() => world.AddNodeAsync("liar", cores: int.MaxValue / 1000 + 1));
        Assert.Contains("capacity.cpu_cores", absurd.Status.Detail);
        await world.AddNodeAsync("big", cores: 100_000, labels: new() { ["zone"] = "nowhere" });
        await world.AddNodeAsync("worker-a");
        for (var i = 0; i < 3; i++)
            await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = $"stranded-{i}", Command = "true", SlaTier = "gold", NodeSelector = { ["zone"] = "mars" } });
        var humble = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "humble", Command = "true", SlaTier = "bronze", NodeSelector = { ["zone"] = "nowhere" } });
        var fits = await world.Jobs().SubmitJobAsync(new SubmitJobRequest { Name = "fits", Command = "true", SlaTier = "bronze" });
        await world.WaitForAsync(humble.JobId, "running");
        await world.WaitForAsync(fits.JobId, "running");
    }

    [Fact]
    public async Task Anti_affine_jobs_never_share_a_node_and_one_waits_when_there_is_only_one()
    {
        var first = await world.AddNodeAsync("worker-a", cores: 8);
        SubmitJobRequest Replica(string name) => new() { Name = name, Command = "sleep", Labels = { ["app"] = "db" }, AntiAffinity = { ["app"] = "db" } };
        var one = await world.Jobs().SubmitJobAsync(Replica("db-1"));
        var two = await world.Jobs().SubmitJobAsync(Replica("db-2"));
        await Eventually.HoldsAsync(async () => (await world.Jobs().ListJobsAsync(new ListJobsRequest { State = "running" })).Jobs.Count == 1, "one replica running");
        var waiting = (await world.Jobs().ListJobsAsync(new ListJobsRequest { State = "pending" })).Jobs.Single();
        var explained = await world.Jobs().GetJobAsync(new JobRequest { JobId = waiting.JobId });
        Assert.Contains(explained.Blockers.Single().Blockers, b => b.Constraint == "anti-affinity");

        var second = await world.AddNodeAsync("worker-b", cores: 8);
        var a = await world.WaitForAsync(one.JobId, "running");
        var b = await world.WaitForAsync(two.JobId, "running");
        Assert.Equal(new[] { first.NodeId, second.NodeId }.Order(), new[] { a.NodeId, b.NodeId }.Order());
    }
}
