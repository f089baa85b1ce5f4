using Platform.Compute.V1;
using Platform.Scheduler.V1;
using Platform.TestSupport;

namespace Platform.Scheduler.Tests;

/// <summary>Jobs through their whole life: placed by the solver, run as Compute workloads, followed to their end.</summary>
public sealed class JobFlowTests : IAsyncLifetime
{
    SchedulerWorld world = null!;

    public async Task InitializeAsync() => world = await SchedulerWorld.StartAsync();

    public async Task DisposeAsync() => await world.DisposeAsync();

    static SubmitJobRequest Job(string name, string tier = "bronze", double cpu = 1, long memoryMib = 256) =>
        new() { Name = name, SlaTier = tier, CpuRequired = cpu, MemoryRequired = memoryMib, Command = "sleep", Args = { "60" }, EstimatedRuntimeSeconds = 30 };

    [Fact]
    public async Task A_job_is_placed_runs_and_completes_with_its_exit_code_and_its_workload_is_removed()
    {
        var node = await world.AddNodeAsync("worker-a");
        var submitted = await world.Jobs().SubmitJobAsync(Job("render", "gold"));
        Assert.Equal((true, "pending", "gold"), (submitted.Success, submitted.Status, submitted.Sla));

        var running = await world.WaitForAsync(submitted.JobId, "running");
        Assert.Equal((node.NodeId, 1), (running.NodeId, running.Attempts));
        var workload = await world.Workloads.GetWorkloadAsync(new WorkloadRequest { WorkloadId = running.WorkloadId });
        Assert.Equal(("sleep", 1000, 256L << 20, submitted.JobId), (workload.Command, workload.CpuMillis, workload.MemoryBytes, workload.Labels["scheduler-job"]));

        await world.ExitAsync(node.NodeId, running.WorkloadId, 0);
        var completed = await world.WaitForAsync(submitted.JobId, "completed");
        Assert.Equal((0, "exited"), (completed.ExitCode, completed.Reason));
        Assert.Equal(["pending", "scheduled", "running", "completed"], completed.History.Select(h => h.Status));
        Assert.True(completed.StartedAtMs > 0 && completed.FinishedAtMs >= completed.StartedAtMs);
        // The workload is removed so the node's room is free again.
        await Eventually.HoldsAsync(async () => (await world.Workloads.ListWorkloadsAsync(new ListWorkloadsRequest { Label = $"scheduler-job={submitted.JobId}" })).Workloads.Count == 0,
            "the completed job's workload removed");

        var failing = await world.Jobs().SubmitJobAsync(Job("broken"));
        var started = await world.WaitForAsync(failing.JobId, "running");
        await world.ExitAsync(node.NodeId, started.WorkloadId, 3);
        var failed = await world.WaitForAsync(failing.JobId, "failed");
        Assert.Equal(3, failed.ExitCode);

        // The decision that placed them: a front, the chosen point, first-fit and best-fit beside it.
        var decision = await world.Placements().GetLatestDecisionAsync(new GetLatestDecisionRequest());
        Assert.Equal(["makespan_s", "cost", "energy_wh", "sla_lateness", "imbalance"], decision.Objectives);
        Assert.NotEmpty(decision.Front);
        Assert.Equal(("chosen", 5), (decision.Chosen.Label, decision.Chosen.Objectives.Count));
        Assert.Equal(["first-fit", "best-fit"], decision.Baselines.Select(b => b.Label));
        Assert.Contains(decision.Placements, p => p.JobId == failing.JobId && p.NodeId == node.NodeId);
        // Which job went where is for operators: a viewer gets the front without the placements, and no job ids on the nodes.
        Assert.Empty((await world.Placements("vera", "viewer").GetLatestDecisionAsync(new GetLatestDecisionRequest())).Placements);
        var longJob = await world.Jobs().SubmitJobAsync(Job("held"));
        await world.WaitForAsync(longJob.JobId, "running");
        Assert.Equal([longJob.JobId], (await world.Jobs().ListNodesAsync(new V1.ListNodesRequest())).Nodes.Single().JobIds);
        Assert.Empty((await world.Jobs("vera", "viewer").ListNodesAsync(new V1.ListNodesRequest())).Nodes.Single().JobIds);
        var stats = await world.Jobs().GetStatsAsync(new GetStatsRequest());
        Assert.Equal((3, 1, 1, 1), (stats.TotalJobs, stats.ByStatus["completed"], stats.ByStatus["failed"], stats.RunningJobs));
        Assert.Equal(3, stats.WaitByTier.Values.Sum(w => w.Jobs));
        Assert.Equal((await world.Placements().GetLatestDecisionAsync(new GetLatestDecisionRequest())).DecisionId, stats.LastDecision.DecisionId);
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_and_removes_its_workload()
    {
        await world.AddNodeAsync("worker-a");
        var submitted = await world.Jobs().SubmitJobAsync(Job("long"));
        var running = await world.WaitForAsync(submitted.JobId, "running");

        var cancelled = await world.Jobs().CancelJobAsync(new JobRequest { JobId = submitted.JobId });
        Assert.Equal(("cancelled", "cancelled"), (cancelled.Status, cancelled.Reason));
        await Eventually.HoldsAsync(async () => (await world.Workloads.GetWorkloadAsync(new WorkloadRequest { WorkloadId = running.WorkloadId })).VmState == "deleted",
            "the cancelled job's workload deleted");
        var again = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => world.Jobs().CancelJobAsync(new JobRequest { JobId = submitted.JobId }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.Aborted, again.StatusCode);
    }

    [Fact]
    public async Task A_job_on_a_lost_node_goes_back_to_the_queue_and_completes_elsewhere()
    {
        var first = await world.AddNodeAsync("worker-a");
        var submitted = await world.Jobs().SubmitJobAsync(Job("survivor", "silver"));
        Assert.Equal(first.NodeId, (await world.WaitForAsync(submitted.JobId, "running")).NodeId);
        var second = await world.AddNodeAsync("worker-b");

        world.Silent[first.NodeId] = true; // the node stops answering: Compute declares it Down and its workloads lost
        var moved = await world.WaitForAsync(submitted.JobId, "running", TimeSpan.FromSeconds(90), attempt: 2);
        Assert.Equal((second.NodeId, 2), (moved.NodeId, moved.Attempts));
        Assert.Contains(moved.History, h => h.Reason == "node-lost" && h.Status == "pending");

        await world.ExitAsync(second.NodeId, moved.WorkloadId, 0);
        Assert.Equal(0, (await world.WaitForAsync(submitted.JobId, "completed")).ExitCode);
    }

    [Fact]
    public async Task Dependencies_run_in_order_and_a_failed_dependency_cancels_its_dependents()
    {
        var node = await world.AddNodeAsync("worker-a");
        var first = await world.Jobs().SubmitJobAsync(Job("extract"));
        var second = await world.Jobs().SubmitJobAsync(new SubmitJobRequest(Job("load")) { DependsOn = { first.JobId } });
        var running = await world.WaitForAsync(first.JobId, "running");
        var waiting = await world.Jobs().GetJobAsync(new JobRequest { JobId = second.JobId });
        Assert.Equal("pending", waiting.Status);
        Assert.Equal([$"{first.JobId} (running)"], waiting.WaitingFor);

        await world.ExitAsync(node.NodeId, running.WorkloadId, 0);
        var secondRunning = await world.WaitForAsync(second.JobId, "running");

        var third = await world.Jobs().SubmitJobAsync(new SubmitJobRequest(Job("report")) { DependsOn = { second.JobId } });
        await world.ExitAsync(node.NodeId, secondRunning.WorkloadId, 1);
        var cancelled = await world.WaitForAsync(third.JobId, "cancelled");
        Assert.Equal("dependency-failed", cancelled.Reason);
        Assert.Contains(second.JobId, cancelled.History.Last().Message);
    }
}
