using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Platform.Compute.V1;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>
/// The workload API over a real PostgreSQL and Garnet, with the test playing the node's agent through the agents'
/// real gRPC API (assignments and reports).
/// </summary>
public sealed class WorkloadApiTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    Node node = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        node = await RegisterAsync("worker-a", cores: 2);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Workloads.WorkloadsClient Operator => new(host.Channel(TestInfrastructure.Token("olga", "operator")));
    // The test plays every node's agent: a service credential may act for any node, an agent's only for its own.
    WorkloadAssignments.WorkloadAssignmentsClient Agent => new(host.Channel(TestInfrastructure.Token("compute-tests", "service")));

    async Task<Node> RegisterAsync(string name, int cores, bool withProcessDriver = true) =>
        await new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token(name, "agent"))).RegisterNodeAsync(new RegisterNodeRequest
        {
            NodeId = Guid.NewGuid().ToString(), Name = name, Hostname = name, AgentVersion = "1",
            Capacity = new NodeCapacity { CpuCores = cores, MemoryBytes = 4L << 30, DiskBytes = 1L << 30 },
            Drivers = { new DriverInfo { Name = "process", Available = withProcessDriver } },
        });

    async Task<WorkloadOperation> CreateAsync(string name, int cpuMillis = 500, string key = "", string nodeId = "") =>
        await Operator.CreateWorkloadAsync(new CreateWorkloadRequest
        {
            Name = name, Command = "sleep", Args = { "60" }, CpuMillis = cpuMillis, MemoryBytes = 64L << 20, IdempotencyKey = key,
            NodeId = nodeId,
        });

    /// <summary>What the agent would do: report the power state for the assignment's current generation.</summary>
    async Task ReportAsync(string workloadId, string power, bool absent = false, int? exitCode = null)
    {
        var assignment = (await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments.Single(a => a.WorkloadId == workloadId);
        var report = new WorkloadReport { WorkloadId = workloadId, Generation = assignment.Generation, PowerState = power, Pid = 4242, Absent = absent };
        if (exitCode is { } code) report.ExitCode = code;
        await Agent.ReportWorkloadsAsync(new ReportWorkloadsRequest { NodeId = node.NodeId, Reports = { report } });
    }

    Task<Workload> GetAsync(string workloadId) => Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = workloadId }).ResponseAsync;

    [Fact]
    public async Task A_created_workload_is_assigned_to_a_node_and_becomes_active_when_the_agent_reports_it_running()
    {
        var created = await CreateAsync("web");
        Assert.Equal(("building", "spawning", node.NodeId), (created.Workload.VmState, created.Workload.TaskState, created.Workload.NodeId));
        Assert.Equal(("create", "running"), (created.Operation.Action, created.Operation.Status));

        var assignment = Assert.Single((await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments);
        Assert.Equal(("running", "sleep"), (assignment.DesiredState, assignment.Command));
        await ReportAsync(created.Workload.WorkloadId, "running");

        var workload = await GetAsync(created.Workload.WorkloadId);
        Assert.Equal(("active", "", "running", 4242), (workload.VmState, workload.TaskState, workload.PowerState, workload.Pid));
        var operation = await Operator.GetOperationAsync(new GetOperationRequest { OperationId = created.Operation.OperationId });
        Assert.Equal("succeeded", operation.Status);

        // Counted, not listed: what a dashboard reads every second.
        await CreateAsync("queued");
        var stats = await Operator.GetWorkloadStatsAsync(new GetWorkloadStatsRequest());
        Assert.Equal((2, 1, 1, 1, 2), (stats.Total, stats.Running, stats.ByState["active"], stats.ByState["building"], stats.ByDriver["process"]));
        var rest = System.Text.Json.JsonDocument.Parse(await host.Http().GetStringAsync("/api/compute/workloads/stats")).RootElement;
        Assert.Equal(2, rest.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Arguments_and_environment_are_write_only_only_the_agent_running_the_workload_receives_them()
    {
        var created = await Operator.CreateWorkloadAsync(new CreateWorkloadRequest
        {
            Name = "secretive", Command = "backup", Args = { "--password", "hunter2" }, Env = { ["API_KEY"] = "s3cr3t" }, MemoryBytes = 64L << 20,
        });
        var id = created.Workload.WorkloadId;

        using var listed = await host.Http(TestInfrastructure.Token("olga", "operator")).GetAsync("/api/compute/workloads");
        var body = await listed.Content.ReadAsStringAsync() + (await GetAsync(id)) + created.Workload;
        var assignment = (await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments.Single(a => a.WorkloadId == id);

        Assert.DoesNotContain("hunter2", body);
        Assert.DoesNotContain("s3cr3t", body);
        Assert.Equal(["(redacted)", "(redacted)"], (await GetAsync(id)).Args);
        Assert.Equal("(redacted)", (await GetAsync(id)).Env["API_KEY"]);
        Assert.Equal(["--password", "hunter2"], assignment.Args);
        Assert.Equal("s3cr3t", assignment.Env["API_KEY"]);
    }

    [Fact]
    public async Task Stop_pause_resume_and_delete_go_through_their_tasks_and_the_agents_reports()
    {
        var id = (await CreateAsync("job")).Workload.WorkloadId;
        await ReportAsync(id, "running");

        var pausing = await Operator.PauseWorkloadAsync(new WorkloadRequest { WorkloadId = id });
        Assert.Equal(("active", "pausing"), (pausing.Workload.VmState, pausing.Workload.TaskState));
        await ReportAsync(id, "paused");
        Assert.Equal("paused", (await GetAsync(id)).VmState);

        await Operator.ResumeWorkloadAsync(new WorkloadRequest { WorkloadId = id });
        await ReportAsync(id, "running");
        Assert.Equal("active", (await GetAsync(id)).VmState);

        var stopping = await Operator.StopWorkloadAsync(new StopWorkloadRequest { WorkloadId = id, TimeoutMs = 2000 });
        var assignment = (await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments.Single();
        Assert.Equal(("stopped", 2000L, false), (assignment.DesiredState, assignment.StopTimeoutMs, assignment.ForceStop));
        await ReportAsync(id, "shutdown", exitCode: 143);
        var stopped = await GetAsync(id);
        Assert.Equal(("stopped", "", 143), (stopped.VmState, stopped.TaskState, stopped.ExitCode));

        await Operator.DeleteWorkloadAsync(new WorkloadRequest { WorkloadId = id });
        Assert.Equal("absent", (await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments.Single().DesiredState);
        await ReportAsync(id, "nostate", absent: true);
        Assert.Equal("deleted", (await GetAsync(id)).VmState);
        Assert.Empty((await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments);
        var actions = (await Operator.ListOperationsAsync(new WorkloadRequest { WorkloadId = id })).Operations.Select(o => (o.Action, o.Status));
        Assert.Equal([("create", "succeeded"), ("pause", "succeeded"), ("resume", "succeeded"), ("stop", "succeeded"), ("delete", "succeeded")], actions);
    }

    [Fact]
    public async Task An_action_the_state_does_not_allow_is_a_409_naming_the_state_and_the_allowed_actions()
    {
        var id = (await CreateAsync("busy")).Workload.WorkloadId;
        await ReportAsync(id, "running");

        using var response = await host.Http(TestInfrastructure.Token("olga", "operator")).PostAsync($"/api/vm/vms/{id}/start", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("it is active", body);
        Assert.Contains("\"allowed_actions\":\"stop,force_stop,restart,restart_hard,pause,update,migrate,delete\"", body.Replace(" ", ""));
        Assert.Equal("active", (await GetAsync(id)).VmState);
    }

    [Fact]
    public async Task A_task_in_progress_blocks_other_actions_but_force_stop_interrupts_it()
    {
        var id = (await CreateAsync("slow")).Workload.WorkloadId;
        await ReportAsync(id, "running");
        var stop = await Operator.StopWorkloadAsync(new StopWorkloadRequest { WorkloadId = id });

        var conflict = await Assert.ThrowsAsync<RpcException>(() => Operator.PauseWorkloadAsync(new WorkloadRequest { WorkloadId = id }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, conflict.StatusCode);
        var force = await Operator.ForceStopWorkloadAsync(new WorkloadRequest { WorkloadId = id });

        Assert.Equal("failed", (await Operator.GetOperationAsync(new GetOperationRequest { OperationId = stop.Operation.OperationId })).Status);
        Assert.True((await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId })).Assignments.Single().ForceStop);
        await ReportAsync(id, "shutdown", exitCode: 137);
        Assert.Equal("succeeded", (await Operator.GetOperationAsync(new GetOperationRequest { OperationId = force.Operation.OperationId })).Status);
    }

    [Fact]
    public async Task Concurrent_creates_never_overcommit_a_node()
    {
        // worker-a has 2 cores: eight concurrent 500-millicore creates, only four fit.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try { return (await CreateAsync($"racer-{i}", cpuMillis: 500)).Workload.WorkloadId; }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted) { return null; }
        }));

        Assert.Equal(4, results.Count(r => r is not null));
        var listed = await new V1.Compute.ComputeClient(host.Channel()).GetNodeAsync(new GetNodeRequest { NodeId = node.NodeId });
        Assert.Equal(2000, listed.Reserved.CpuMillis);
    }

    [Fact]
    public async Task Best_fit_prefers_the_node_the_workload_fills_most_and_skips_nodes_without_the_driver()
    {
        var big = await RegisterAsync("worker-big", cores: 16);
        await RegisterAsync("worker-nodriver", cores: 1, withProcessDriver: false);

        var small = await CreateAsync("small", cpuMillis: 1500);
        var large = await CreateAsync("large", cpuMillis: 4000);

        Assert.Equal(node.NodeId, small.Workload.NodeId);
        Assert.Equal(big.NodeId, large.Workload.NodeId);
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_first_workload_and_a_different_request_with_it_is_refused()
    {
        var first = await CreateAsync("once", key: "deploy-42");
        var again = await CreateAsync("once", key: "deploy-42");
        var other = await Assert.ThrowsAsync<RpcException>(() => CreateAsync("twice", key: "deploy-42"));

        Assert.Equal(first.Workload.WorkloadId, again.Workload.WorkloadId);
        Assert.Equal(first.Operation.OperationId, again.Operation.OperationId);
        Assert.Equal(StatusCode.AlreadyExists, other.StatusCode);
        Assert.Single((await Operator.ListWorkloadsAsync(new ListWorkloadsRequest())).Workloads);
    }

    [Fact]
    public async Task Bad_input_is_a_400_naming_each_field_and_creates_nothing()
    {
        using var response = await host.Http(TestInfrastructure.Token("olga", "operator")).PostAsync("/api/compute/workloads", new StringContent(
            """{"name": "-bad", "driver": "docker", "cpuMillis": -1, "restartPolicy": "sometimes", "env": {"1X": "y"}}""",
            Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        foreach (var field in new[] { "name", "driver", "cpu_millis", "restart_policy", "env" }) Assert.Contains(field, body);
        Assert.Empty((await Operator.ListWorkloadsAsync(new ListWorkloadsRequest())).Workloads);
    }

    [Fact]
    public async Task The_watch_stream_speaks_at_once_and_again_when_the_nodes_assignments_change()
    {
        using var watch = Agent.WatchAssignments(new ListAssignmentsRequest { NodeId = node.NodeId });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));

        var next = watch.ResponseStream.MoveNext(CancellationToken.None);
        await CreateAsync("watched");

        Assert.True(await next);
    }
}
