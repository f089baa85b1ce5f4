using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Cache;
using Platform.TestSupport;
using StackExchange.Redis;

namespace Platform.Compute.Tests;

/// <summary>
/// The migration protocol over a real PostgreSQL and Garnet, the test playing both nodes' agents through their real
/// gRPC API: room held on the target, the source's reports, the handover, completion, rollback and abort.
/// </summary>
public sealed class MigrationApiTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    string source = null!, target = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        source = await RegisterAsync("source-node", cores: 2, liveMigration: "unavailable: criu check fails on this kernel (vdso)");
        target = await RegisterAsync("target-node", cores: 1, liveMigration: "criu");
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Workloads.WorkloadsClient Operator => new(host.Channel(TestInfrastructure.Token("olga", "operator")));
    Migrations.MigrationsClient Migrations => new(host.Channel(TestInfrastructure.Token("olga", "operator")));
    // The test plays every node's agent: a service credential may act for any node, an agent's only for its own.
    WorkloadAssignments.WorkloadAssignmentsClient Agent => new(host.Channel(TestInfrastructure.Token("compute-tests", "service")));

    async Task<string> RegisterAsync(string name, int cores, string liveMigration) =>
        (await new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token(name, "agent"))).RegisterNodeAsync(new RegisterNodeRequest
        {
            NodeId = Guid.NewGuid().ToString(), Name = name, Hostname = name, AgentVersion = "1", AgentUrl = $"http://{name}:5000",
            Capacity = new NodeCapacity { CpuCores = cores, MemoryBytes = 4L << 30, DiskBytes = 1L << 30 },
            Drivers = { new DriverInfo { Name = "process", Available = true, Attributes = { ["live_migration"] = liveMigration } } },
        })).NodeId;

    async Task<IReadOnlyList<Assignment>> AssignmentsAsync(string nodeId) =>
        (await Agent.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = nodeId })).Assignments;

    async Task ReportAsync(string nodeId, string workloadId, string power, long startedAtMs = 0)
    {
        var assignment = (await AssignmentsAsync(nodeId)).Single(a => a.WorkloadId == workloadId);
        await Agent.ReportWorkloadsAsync(new ReportWorkloadsRequest
        {
            NodeId = nodeId,
            Reports = { new WorkloadReport { WorkloadId = workloadId, Generation = assignment.Generation, PowerState = power, Pid = 77, StartedAtMs = startedAtMs } },
        });
    }

    async Task<string> RunningWorkloadAsync(int cpuMillis = 1000)
    {
        var id = (await Operator.CreateWorkloadAsync(new CreateWorkloadRequest
        {
            Name = "stateful", Command = "sleep", Args = { "600" }, CpuMillis = cpuMillis, MemoryBytes = 64L << 20, NodeId = source,
        })).Workload.WorkloadId;
        await ReportAsync(source, id, "running");
        return id;
    }

    Task<MigrationReportResponse> SourceReportsAsync(string migrationId, string phase, long stoppedAtMs = 0, string error = "") =>
        Agent.ReportMigrationAsync(new MigrationReport
        {
            NodeId = source, MigrationId = migrationId, Phase = phase, BytesTotal = 10 << 20, BytesSent = 1 << 20, BytesSaved = 9 << 20, Rounds = 1,
            StoppedAtMs = stoppedAtMs, Error = error,
        }).ResponseAsync;

    [Fact]
    public async Task Only_the_target_node_learns_who_sends_a_migration_and_no_agent_asks_for_another_node()
    {
        var id = await RunningWorkloadAsync();
        var migrationId = (await Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target, Type = "cold" })).Migration.MigrationId;
        WorkloadAssignments.WorkloadAssignmentsClient AgentOf(string name) => new(host.Channel(TestInfrastructure.Token(name, "agent")));

        var incoming = await AgentOf("target-node").GetIncomingMigrationAsync(new GetIncomingMigrationRequest { NodeId = target, MigrationId = migrationId });
        var asSource = await Assert.ThrowsAsync<RpcException>(() => AgentOf("source-node").GetIncomingMigrationAsync(
            new GetIncomingMigrationRequest { NodeId = source, MigrationId = migrationId }).ResponseAsync);
        var posing = await Assert.ThrowsAsync<RpcException>(() => AgentOf("source-node").GetIncomingMigrationAsync(
            new GetIncomingMigrationRequest { NodeId = target, MigrationId = migrationId }).ResponseAsync);

        Assert.Equal(("source-node", false), (incoming.SourceNodeName, incoming.Finished));
        Assert.Equal(StatusCode.NotFound, asSource.StatusCode); // it does not target the source
        Assert.Equal(StatusCode.PermissionDenied, posing.StatusCode); // an agent speaks for its own node only
    }

    [Fact]
    public async Task A_cold_migration_holds_room_on_the_target_hands_over_and_completes_when_the_target_runs_it()
    {
        var id = await RunningWorkloadAsync();
        var begun = await Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target, CompressionLevel = 5 });
        Assert.Equal(("pending", "cold", 5, target), (begun.Migration.Phase, begun.Migration.Type, begun.Migration.CompressionLevel, begun.Migration.TargetNodeId));
        Assert.Equal(("active", "migrating", "migrate"), (begun.Workload.VmState, begun.Workload.TaskState, begun.Operation.Action));
        var migrationId = begun.Migration.MigrationId;

        // The target's one core is held: nothing else fits there while the migration runs.
        var full = await Assert.ThrowsAsync<RpcException>(() => Operator.CreateWorkloadAsync(new CreateWorkloadRequest
        {
            Name = "squeezed", Command = "true", CpuMillis = 500, MemoryBytes = 1 << 20, NodeId = target,
        }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);

        // The source is told to send it; the target has nothing yet; nothing else may act on it meanwhile.
        var order = (await AssignmentsAsync(source)).Single().Migration;
        Assert.Equal(("source", target, "http://target-node:5000", 5), (order.Role, order.TargetNodeId, order.TargetAgentUrl, order.CompressionLevel));
        Assert.Empty(await AssignmentsAsync(target));
        Assert.Empty((await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = id })).AllowedActions);

        var stoppedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal("final-copy", (await SourceReportsAsync(migrationId, "final-copy", stoppedAt)).Phase);
        Assert.Equal("starting", (await SourceReportsAsync(migrationId, "handover")).Phase);

        // Handed over: the target runs it from what it received, the source keeps its copy until then.
        Assert.Equal("target", (await AssignmentsAsync(target)).Single().Migration.Role);
        var kept = (await AssignmentsAsync(source)).Single();
        Assert.Equal("migrated", kept.DesiredState);
        Assert.Equal(StatusCode.Aborted, (await Assert.ThrowsAsync<RpcException>(() =>
            Migrations.AbortMigrationAsync(new MigrationRequest { MigrationId = migrationId }).ResponseAsync)).StatusCode);

        await ReportAsync(target, id, "running", startedAtMs: stoppedAt + 420);

        var done = await Migrations.GetMigrationAsync(new MigrationRequest { MigrationId = migrationId });
        Assert.Equal(("completed", 420L, 10L << 20, 1L << 20, 9L << 20), (done.Phase, done.DowntimeMs, done.BytesTotal, done.BytesSent, done.BytesSaved));
        var workload = await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = id });
        Assert.Equal(("active", "", target, "running"), (workload.VmState, workload.TaskState, workload.NodeId, workload.PowerState));
        Assert.Empty(await AssignmentsAsync(source)); // the source's agent now removes its copy
        Assert.Null((await AssignmentsAsync(target)).Single().Migration);
        Assert.Equal("succeeded", (await Operator.GetOperationAsync(new GetOperationRequest { OperationId = begun.Operation.OperationId })).Status);
    }

    [Fact]
    public async Task Progress_is_streamed_to_watchers_and_published_as_events()
    {
        var id = await RunningWorkloadAsync();
        var events = new ConcurrentQueue<(string Type, string Phase, long Sent)>();
        await host.Services.GetRequiredService<IConnectionMultiplexer>().GetSubscriber().SubscribeAsync(
            RedisChannel.Literal(EventPublisher.Channel("workloads")), (_, message) =>
            {
                var envelope = JsonDocument.Parse(message.ToString()).RootElement;
                if (envelope.GetProperty("data").TryGetProperty("migration", out var migration) && migration.GetProperty("workloadId").GetString() == id)
                    events.Enqueue((envelope.GetProperty("type").GetString()!, migration.GetProperty("phase").GetString()!,
                        migration.TryGetProperty("bytesSent", out var sent) ? long.Parse(sent.GetString()!) : 0));
            });
        var migrationId = (await Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target, Type = "warm" })).Migration.MigrationId;
        using var watch = Migrations.WatchMigration(new MigrationRequest { MigrationId = migrationId });
        var seen = new ConcurrentQueue<V1.Migration>();
        var watching = Task.Run(async () => { await foreach (var m in watch.ResponseStream.ReadAllAsync()) seen.Enqueue(m); });

        await Eventually.HoldsAsync(() => seen.Count >= 1, "the watch's first message");
        await SourceReportsAsync(migrationId, "precopy");
        await Eventually.HoldsAsync(() => seen.Any(m => m.Phase == "precopy"), "pre-copy progress on the watch");
        await SourceReportsAsync(migrationId, "final-copy", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await SourceReportsAsync(migrationId, "handover");
        await ReportAsync(target, id, "running", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await watching; // the stream ends with the migration

        Assert.Equal(("pending", "completed"), (seen.First().Phase, seen.Last().Phase));
        Assert.Equal(1L << 20, seen.First(m => m.Phase == "precopy").BytesSent);
        await Eventually.HoldsAsync(() => events.Any(e => e.Type == "migration.completed"), "the completion event");
        Assert.Equal(["migration.started", "migration.progress", "migration.progress", "migration.starting", "migration.completed"], events.Select(e => e.Type));
        Assert.Equal(1L << 20, events.First(e => e.Type == "migration.progress").Sent);
    }

    [Fact]
    public async Task A_workload_that_does_not_start_on_the_target_goes_back_to_its_source()
    {
        var id = await RunningWorkloadAsync();
        var migrationId = (await Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, Type = "warm" })).Migration.MigrationId;
        await SourceReportsAsync(migrationId, "precopy");
        await SourceReportsAsync(migrationId, "final-copy", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await SourceReportsAsync(migrationId, "handover");

        await ReportAsync(target, id, "crashed");

        var migration = await Migrations.GetMigrationAsync(new MigrationRequest { MigrationId = migrationId });
        Assert.Equal("failed", migration.Phase);
        Assert.Contains("did not start on the target", migration.Error);
        var workload = await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = id });
        Assert.Equal((source, ""), (workload.NodeId, workload.TaskState));
        var back = (await AssignmentsAsync(source)).Single();
        Assert.Equal(("running", (MigrationOrder?)null), (back.DesiredState, back.Migration));
        Assert.Empty(await AssignmentsAsync(target));
    }

    [Fact]
    public async Task An_abort_before_the_handover_leaves_the_workload_on_its_source_and_ends_the_senders_run()
    {
        var id = await RunningWorkloadAsync();
        var begun = await Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target });
        var migrationId = begun.Migration.MigrationId;
        await SourceReportsAsync(migrationId, "final-copy", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var generation = (await AssignmentsAsync(source)).Single().Generation;

        var aborted = await Migrations.AbortMigrationAsync(new MigrationRequest { MigrationId = migrationId });

        Assert.Equal(("aborted", "aborted by olga"), (aborted.Migration.Phase, aborted.Migration.Error));
        Assert.Equal(("active", "", source), (aborted.Workload.VmState, aborted.Workload.TaskState, aborted.Workload.NodeId));
        Assert.Equal("failed", aborted.Operation.Status);
        var assignment = (await AssignmentsAsync(source)).Single();
        Assert.Null(assignment.Migration);
        Assert.True(assignment.Generation > generation, "a new generation: the source starts it again if it had stopped it");
        // The sender's next report hears that it is over; a second abort is refused; the room on the target is free again.
        Assert.Equal("aborted", (await SourceReportsAsync(migrationId, "handover")).Phase);
        Assert.Equal(source, (await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = id })).NodeId);
        Assert.Equal(StatusCode.Aborted, (await Assert.ThrowsAsync<RpcException>(() =>
            Migrations.AbortMigrationAsync(new MigrationRequest { MigrationId = migrationId }).ResponseAsync)).StatusCode);
        await Operator.CreateWorkloadAsync(new CreateWorkloadRequest { Name = "fits-again", Command = "true", CpuMillis = 1000, MemoryBytes = 1 << 20, NodeId = target });
    }

    [Fact]
    public async Task A_report_from_a_node_that_is_not_the_source_is_a_409_with_its_reason_and_changes_nothing()
    {
        var id = await RunningWorkloadAsync();
        var migrationId = (await Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target })).Migration.MigrationId;

        var refused = await Assert.ThrowsAsync<RpcException>(() => Agent.ReportMigrationAsync(new MigrationReport
        {
            NodeId = target, MigrationId = migrationId, Phase = "handover", BytesTotal = 1, BytesSent = 1,
        }).ResponseAsync);

        Assert.Equal(StatusCode.Aborted, refused.StatusCode);
        Assert.Contains("is not the source of migration", refused.Status.Detail);
        var info = refused.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.Equal(("MIGRATION_CONFLICT", "compute.platform"), (info.Reason, info.Domain));
        Assert.Equal("pending", (await Migrations.GetMigrationAsync(new MigrationRequest { MigrationId = migrationId })).Phase);
        Assert.Equal(source, (await Operator.GetWorkloadAsync(new WorkloadRequest { WorkloadId = id })).NodeId);
    }

    [Fact]
    public async Task Live_migration_is_refused_with_the_reason_the_source_fingerprinted()
    {
        var id = await RunningWorkloadAsync();
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            Migrations.MigrateWorkloadAsync(new MigrateWorkloadRequest { WorkloadId = id, TargetNodeId = target, Type = "live" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("on node source-node the process driver reports unavailable: criu check fails on this kernel (vdso)", refused.Status.Detail);
        Assert.Empty((await Migrations.ListMigrationsAsync(new ListMigrationsRequest { WorkloadId = id })).Migrations);
    }

    [Fact]
    public async Task Bad_requests_are_400_or_409_naming_the_reason_and_record_nothing()
    {
        var id = await RunningWorkloadAsync();
        var http = host.Http(TestInfrastructure.Token("olga", "operator"));
        using var bad = await http.PostAsync($"/api/compute/workloads/{id}/migrate", new StringContent(
            """{"type": "teleport", "compressionLevel": 30, "bandwidthLimitBytesPerSecond": 10, "targetNodeId": "nope"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        foreach (var field in new[] { "type", "compression_level", "bandwidth_limit_bytes_per_second", "target_node_id" }) Assert.Contains(field, body);

        using var self = await http.PostAsync($"/api/vm/vms/{id}/migrate", new StringContent($$"""{"targetNodeId": "{{source}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        Assert.Contains("already runs on node", await self.Content.ReadAsStringAsync());

        await Operator.StopWorkloadAsync(new StopWorkloadRequest { WorkloadId = id });
        using var busy = await http.PostAsync($"/api/compute/workloads/{id}/migrate", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);

        Assert.Empty((await Migrations.ListMigrationsAsync(new ListMigrationsRequest())).Migrations);
        Assert.Null((await AssignmentsAsync(source)).Single().Migration);
    }
}
