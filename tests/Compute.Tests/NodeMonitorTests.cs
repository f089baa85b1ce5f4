using Grpc.Core;
using Platform.Compute.V1;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>Leases of a second: nodes that stop renewing go NotReady, then Down, and their workloads move or are lost.</summary>
public sealed class NodeMonitorTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
    {
        ["Compute:Leases:Duration"] = "00:00:01",
        ["Compute:Leases:DownAfter"] = "00:00:01",
        ["Compute:Leases:MonitorInterval"] = "00:00:00.100",
        ["Compute:Leases:AgentRetryMax"] = "00:00:00",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Compute.ComputeClient Nodes(string name, string role = "agent") => new(host.Channel(TestInfrastructure.Token(name, role)));
    V1.Workloads.WorkloadsClient Operator => new(host.Channel(TestInfrastructure.Token("olga", "operator")));

    async Task<Node> RegisterAsync(string name) => await Nodes(name).RegisterNodeAsync(new RegisterNodeRequest
    {
        NodeId = Guid.NewGuid().ToString(), Name = name, Hostname = name, AgentVersion = "1",
        Capacity = new NodeCapacity { CpuCores = 4, MemoryBytes = 4L << 30 },
        Drivers = { new DriverInfo { Name = "process", Available = true } },
    });

    Task<WorkloadOperation> CreateAsync(string name, string nodeId, string policy) => Operator.CreateWorkloadAsync(new CreateWorkloadRequest
    {
        Name = name, Command = "sleep", Args = { "60" }, NodeId = nodeId, RestartPolicy = policy, CpuMillis = 100, MemoryBytes = 16L << 20,
    }).ResponseAsync;

    [Fact]
    public async Task A_node_that_stops_renewing_goes_Down_and_its_workloads_move_to_a_Ready_node_or_are_lost()
    {
        var failing = await RegisterAsync("failing");
        var healthy = await RegisterAsync("healthy");
        using var renewing = new CancellationTokenSource();
        var heartbeats = Task.Run(async () =>
        {
            while (!renewing.IsCancellationRequested)
            {
                await Nodes("healthy").HeartbeatAsync(new HeartbeatRequest { NodeId = healthy.NodeId });
                await Task.Delay(200);
            }
        });
        var mover = await CreateAsync("mover", failing.NodeId, "always");
        var stayer = await CreateAsync("stayer", failing.NodeId, "never");

        await Eventually.HoldsAsync(async () => (await Nodes("viewer", "viewer").GetNodeAsync(new GetNodeRequest { NodeId = failing.NodeId })).Status == "Down", "the node is Down");
        await Eventually.HoldsAsync(async () => (await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = stayer.Workload.WorkloadId })).VmState == "lost", "the stayer is lost");
        var moved = await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = mover.Workload.WorkloadId });
        renewing.Cancel();
        await heartbeats;

        Assert.Equal((healthy.NodeId, "building", "spawning"), (moved.NodeId, moved.VmState, moved.TaskState));
        var operations = (await Operator.ListOperationsAsync(new WorkloadRequest { WorkloadId = mover.Workload.WorkloadId })).Operations;
        Assert.Equal([("create", "failed"), ("reschedule", "running")], operations.Select(o => (o.Action, o.Status)));
    }

    [Fact]
    public async Task A_workload_handed_over_to_a_migration_target_that_goes_Down_returns_to_its_source()
    {
        var source = await RegisterAsync("migration-source");
        var target = await RegisterAsync("migration-target");
        using var renewing = new CancellationTokenSource();
        var targetRenews = true;
        var heartbeats = Task.Run(async () =>
        {
            while (!renewing.IsCancellationRequested)
            {
                await Nodes("migration-source").HeartbeatAsync(new HeartbeatRequest { NodeId = source.NodeId });
                if (Volatile.Read(ref targetRenews)) await Nodes("migration-target").HeartbeatAsync(new HeartbeatRequest { NodeId = target.NodeId });
                await Task.Delay(200);
            }
        });
        var id = (await CreateAsync("migrant", source.NodeId, "never")).Workload.WorkloadId;
        var agent = new WorkloadAssignments.WorkloadAssignmentsClient(host.Channel(TestInfrastructure.Token("compute-tests", "service"))); // plays both agents
        var assignment = (await agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = source.NodeId })).Assignments.Single();
        await agent.ReportWorkloadsAsync(new ReportWorkloadsRequest { NodeId = source.NodeId, Reports = { new WorkloadReport { WorkloadId = id, Generation = assignment.Generation, PowerState = "running" } } });
        var migrations = new Migrations.MigrationsClient(host.Channel(TestInfrastructure.Token("olga", "operator")));
        var migrationId = (await migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target.NodeId })).Migration.MigrationId;
        await agent.ReportMigrationAsync(new MigrationReport { NodeId = source.NodeId, MigrationId = migrationId, Phase = "handover", StoppedAtMs = 1 });
        Volatile.Write(ref targetRenews, false); // the target dies after the handover, before it reports the workload running

        await Eventually.HoldsAsync(async () => (await migrations.GetMigrationAsync(new MigrationRequest { MigrationId = migrationId })).Phase == "failed", "the migration failed");
        var back = await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = id });
        renewing.Cancel();
        await heartbeats;

        Assert.Equal((source.NodeId, "active", ""), (back.NodeId, back.VmState, back.TaskState));
        Assert.Contains("target node went down", back.Message);
        Assert.Equal("running", (await agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = source.NodeId })).Assignments.Single().DesiredState);
    }
}
