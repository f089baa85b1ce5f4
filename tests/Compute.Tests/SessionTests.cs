using Grpc.Core;
using Platform.Compute.V1;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>Sessions over a real PostgreSQL: run as workloads, bounded by per-user quotas, terminated to free them.</summary>
public sealed class SessionTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    Node node = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
        {
            ["Compute:Sessions:Applications:notebook:Command"] = "sleep",
            ["Compute:Sessions:Applications:notebook:Args:0"] = "3600",
        });
        node = await new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token("big", "agent"))).RegisterNodeAsync(new RegisterNodeRequest
        {
            NodeId = Guid.NewGuid().ToString(), Name = "big", Hostname = "big", AgentVersion = "1",
            Capacity = new NodeCapacity { CpuCores = 64, MemoryBytes = 256L << 30 },
            Drivers = { new DriverInfo { Name = "process", Available = true } },
        });
        await Admin.SetQuotaAsync(new Quota { User = "ann", CpuCores = 2, MemoryBytes = 4L << 30, Sessions = 10 });
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Sessions.SessionsClient As(string user, string role = "viewer") => new(host.Channel(TestInfrastructure.Token(user, role)));
    V1.Sessions.SessionsClient Admin => As("root", "admin");

    [Fact]
    public async Task A_session_runs_its_application_as_a_workload_with_the_resources_asked_for()
    {
        var session = await As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", CpuCores = 1, MemoryBytes = 1L << 30 });

        var workload = await new V1.Workloads.WorkloadsClient(host.Channel()).GetWorkloadAsync(new WorkloadRequest { WorkloadId = session.WorkloadId });
        Assert.Equal(("ann", "starting", node.NodeId), (session.User, session.Status, session.NodeId));
        Assert.Equal(("sleep", 1000, 1L << 30), (workload.Command, workload.CpuMillis, workload.MemoryBytes));
        var assignments = await new WorkloadAssignments.WorkloadAssignmentsClient(host.Channel(TestInfrastructure.Token("compute-tests", "service")))
            .ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = node.NodeId });
        Assert.Equal("3600", assignments.Assignments.Single(a => a.WorkloadId == session.WorkloadId).Args.Single());
        Assert.Equal(session.SessionId, workload.Labels["session_id"]);
    }

    [Fact]
    public async Task A_viewer_sees_and_ends_only_its_own_sessions_and_starts_only_configured_applications()
    {
        var anns = await As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook" });

        var freeCommand = await Assert.ThrowsAsync<RpcException>(() => As("bob").CreateSessionAsync(new CreateSessionRequest { Application = "shell", Command = "sh", Args = { "-c", "id" } }).ResponseAsync);
        var forAnother = await Assert.ThrowsAsync<RpcException>(() => As("bob").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", User = "ann" }).ResponseAsync);
        var peek = await Assert.ThrowsAsync<RpcException>(() => As("bob").GetSessionAsync(new SessionRequest { SessionId = anns.SessionId }).ResponseAsync);
        var end = await Assert.ThrowsAsync<RpcException>(() => As("bob").TerminateSessionAsync(new SessionRequest { SessionId = anns.SessionId }).ResponseAsync);
        var listOthers = await Assert.ThrowsAsync<RpcException>(() => As("bob").ListSessionsAsync(new ListSessionsRequest { User = "ann" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, freeCommand.StatusCode);
        Assert.Contains("command", freeCommand.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, forAnother.StatusCode);
        Assert.Equal([StatusCode.PermissionDenied, StatusCode.PermissionDenied, StatusCode.PermissionDenied], [peek.StatusCode, end.StatusCode, listOthers.StatusCode]);
        Assert.Empty((await As("bob").ListSessionsAsync(new ListSessionsRequest())).Sessions);
        Assert.Equal("starting", (await As("ann").GetSessionAsync(new SessionRequest { SessionId = anns.SessionId })).Status);
        Assert.Single((await As("olga", "operator").ListSessionsAsync(new ListSessionsRequest { User = "ann" })).Sessions);
    }

    [Fact]
    public async Task A_session_beyond_the_quota_is_refused_and_leaves_nothing_behind()
    {
        await As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", CpuCores = 2 });

        var refused = await Assert.ThrowsAsync<RpcException>(() => As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", CpuCores = 1 }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("2 CPU cores (2 in use)", refused.Status.Detail);
        Assert.Single((await new V1.Workloads.WorkloadsClient(host.Channel()).ListWorkloadsAsync(new ListWorkloadsRequest())).Workloads);
    }

    [Fact]
    public async Task Concurrent_sessions_of_one_user_never_exceed_the_quota()
    {
        var created = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            try { return await As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", CpuCores = 1 }); }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted) { return null; }
        }));

        Assert.Equal(2, created.Count(s => s is not null));
        Assert.Equal(2, (await As("ann").GetQuotaAsync(new QuotaRequest { User = "ann" })).UsedCpuCores);
    }

    [Fact]
    public async Task Terminating_deletes_the_workload_and_frees_the_quota()
    {
        var session = await As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", CpuCores = 2 });

        var terminated = await As("ann").TerminateSessionAsync(new SessionRequest { SessionId = session.SessionId });
        var again = await As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", CpuCores = 2 });

        Assert.Equal("terminated", terminated.Status);
        var workload = await new V1.Workloads.WorkloadsClient(host.Channel()).GetWorkloadAsync(new WorkloadRequest { WorkloadId = session.WorkloadId });
        Assert.Equal("deleting", workload.TaskState);
        Assert.Equal("starting", again.Status);
        Assert.Equal([again.SessionId], (await As("ann").ListSessionsAsync(new ListSessionsRequest { User = "ann" })).Sessions.Select(s => s.SessionId));
    }

    [Fact]
    public async Task An_unknown_application_needs_a_command_and_users_cannot_open_sessions_for_others()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() => As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "quake" }).ResponseAsync);
        var other = await Assert.ThrowsAsync<RpcException>(() => As("ann").CreateSessionAsync(new CreateSessionRequest { Application = "notebook", User = "bob" }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument), (unknown.StatusCode, other.StatusCode));
        Assert.Contains("command", unknown.Status.Detail);
        Assert.Contains("user", other.Status.Detail);
    }
}
