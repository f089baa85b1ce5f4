extern alias compute;
using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Platform.Compute.V1;
using Platform.Scheduler.V1;
using Platform.TestSupport;
using ComputeProgram = compute::Program;

namespace Platform.Scheduler.Tests;

/// <summary>
/// The Scheduler in memory over a real PostgreSQL and Garnet, placing jobs through the real Compute on a real socket;
/// the test plays each node's agent through Compute's agent API: it reports a workload running once assigned (unless
/// told to hold it), gone once deleted, and exited when the test says so.
/// </summary>
public sealed class SchedulerWorld : IAsyncDisposable
{
    readonly CancellationTokenSource stopping = new();
    readonly ConcurrentDictionary<string, bool> nodes = new();
    readonly ConcurrentDictionary<string, bool> reportedRunning = new();
    readonly Task agents;

    public ServiceHost<compute::Program> Compute { get; }
    public ServiceHost<Program> Scheduler { get; private set; }
    readonly Dictionary<string, string> schedulerSettings;
    /// <summary>Nodes whose agent has gone silent: no reports, no heartbeats.</summary>
    public ConcurrentDictionary<string, bool> Silent { get; } = new();
    /// <summary>Whether the agents start what they are assigned; while false, workloads stay unstarted.</summary>
    public bool StartWorkloads { get; set; } = true;
    /// <summary>Workloads the agent leaves unstarted.</summary>
    public ConcurrentDictionary<string, bool> Held { get; } = new();

    readonly ConcurrentDictionary<string, Grpc.Net.Client.GrpcChannel> computeChannels = new();
    readonly string computeAddress;

    /// <summary>A channel to Compute's real socket whose calls carry <paramref name="token"/>.</summary>
    public Grpc.Net.Client.GrpcChannel ComputeChannel(string token) => computeChannels.GetOrAdd(token, t =>
        Grpc.Net.Client.GrpcChannel.ForAddress(computeAddress, new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = new BearerHandler(t) { InnerHandler = new SocketsHttpHandler() } }));

    SchedulerWorld(ServiceHost<ComputeProgram> compute, ServiceHost<Program> scheduler, Dictionary<string, string> schedulerSettings)
    {
        Compute = compute;
        Scheduler = scheduler;
        this.schedulerSettings = schedulerSettings;
        computeAddress = schedulerSettings["services:compute:grpc:0"];
        agents = Task.Run(PlayAgentsAsync);
    }

    public static async Task<SchedulerWorld> StartAsync(IReadOnlyDictionary<string, string>? schedulerSettings = null, string? database = null)
    {
        database ??= await TestInfrastructure.CreateDatabaseAsync("scheduler");
        var port = Platform.AppHost.Hosting.Ports.Free();
        var compute = await ServiceHost<ComputeProgram>.StartOnAsync(database,
            kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2),
            new Dictionary<string, string> { ["Compute:Leases:Duration"] = "00:00:02", ["Compute:Leases:DownAfter"] = "00:00:02", ["Compute:Leases:AgentRetryMax"] = "00:00:01" });
        var settings = new Dictionary<string, string>
        {
            ["services:compute:grpc:0"] = $"http://127.0.0.1:{port}",
            ["Auth:Token"] = TestTokens.Issue("scheduler", "service", TimeSpan.FromDays(1)),
            ["Scheduler:Placement:Interval"] = "00:00:00.200",
            ["Scheduler:Placement:TimeBudget"] = "00:00:00.200",
        };
        foreach (var (key, value) in schedulerSettings ?? new Dictionary<string, string>()) settings[key] = value;
        return new SchedulerWorld(compute, await ServiceHost<Program>.StartOnAsync(database, configuration: settings), settings);
    }

    /// <summary>Stops the Scheduler (as a crash would: nothing more of its work happens) and starts a new one on the same database.</summary>
    public async Task RestartSchedulerAsync(IReadOnlyDictionary<string, string> changes, Func<Task>? whileStopped = null)
    {
        var database = Scheduler.ConnectionString;
        await Scheduler.DisposeAsync();
        if (whileStopped is not null) await whileStopped();
        foreach (var (key, value) in changes) schedulerSettings[key] = value;
        Scheduler = await ServiceHost<Program>.StartOnAsync(database, configuration: schedulerSettings);
    }

    /// <summary>Waits until the job is in <paramref name="status"/> (in its <paramref name="attempt"/>th placement, when given), and returns it.</summary>
    public async Task<Job> WaitForAsync(string jobId, string status, TimeSpan? limit = null, int attempt = 0)
    {
        Job? job = null;
        await Eventually.HoldsAsync(async () => (job = await Jobs().GetJobAsync(new JobRequest { JobId = jobId })).Status == status && (attempt == 0 || job.Attempts == attempt),
            $"job {jobId} {status} (it is {job?.Status} {job?.Reason})", limit ?? TimeSpan.FromSeconds(60));
        return job!;
    }

    public V1.Scheduler.SchedulerClient Jobs(string user = "olga", string role = "operator") => new(Scheduler.Channel(TestInfrastructure.Token(user, role)));
    public Placements.PlacementsClient Placements(string user = "ada", string role = "admin") => new(Scheduler.Channel(TestInfrastructure.Token(user, role)));
    public Workloads.WorkloadsClient Workloads => new(ComputeChannel(TestInfrastructure.Token("olga", "operator")));
    WorkloadAssignments.WorkloadAssignmentsClient Assignments => new(ComputeChannel(TestInfrastructure.Token("scheduler-tests", "service")));

    public async Task<Node> AddNodeAsync(string name, int cores = 4, long memoryMib = 4096, Dictionary<string, string>? labels = null)
    {
        var node = await new Compute.V1.Compute.ComputeClient(ComputeChannel(TestInfrastructure.Token(name, "agent"))).RegisterNodeAsync(new RegisterNodeRequest
        {
            NodeId = Guid.NewGuid().ToString(), Name = name, Hostname = name, AgentVersion = "1",
            Capacity = new NodeCapacity { CpuCores = cores, MemoryBytes = memoryMib << 20, DiskBytes = 1L << 30 },
            Drivers = { new DriverInfo { Name = "process", Available = true } }, Labels = { labels ?? [] },
        });
        nodes[node.NodeId] = true;
        return node;
    }

    /// <summary>What the agent reports when the process exits with <paramref name="exitCode"/>.</summary>
    public async Task ExitAsync(string nodeId, string workloadId, int exitCode)
    {
        var assignment = (await Assignments.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = nodeId })).Assignments.Single(a => a.WorkloadId == workloadId);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Assignments.ReportWorkloadsAsync(new ReportWorkloadsRequest
        {
            NodeId = nodeId,
            Reports = { new WorkloadReport { WorkloadId = workloadId, Generation = assignment.Generation, PowerState = exitCode == 0 ? "shutdown" : "crashed",
                ExitCode = exitCode, StartedAtMs = now - 1000, FinishedAtMs = now } },
        });
    }

    async Task PlayAgentsAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            foreach (var nodeId in nodes.Keys.Where(n => !Silent.ContainsKey(n)))
            {
                try
                {
                    await new Compute.V1.Compute.ComputeClient(ComputeChannel(TestInfrastructure.Token(nodeId, "service"))).HeartbeatAsync(new HeartbeatRequest { NodeId = nodeId });
                    var reports = new List<WorkloadReport>();
                    foreach (var a in (await Assignments.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = nodeId })).Assignments)
                    {
                        if (a.DesiredState == "absent") reports.Add(new WorkloadReport { WorkloadId = a.WorkloadId, Generation = a.Generation, PowerState = "nostate", Absent = true });
                        else if (a.DesiredState == "running" && StartWorkloads && !Held.ContainsKey(a.WorkloadId) && reportedRunning.TryAdd($"{a.WorkloadId}/{a.Generation}", true))
                            reports.Add(new WorkloadReport { WorkloadId = a.WorkloadId, Generation = a.Generation, PowerState = "running", Pid = 4242,
                                StartedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
                    }
                    if (reports.Count > 0) await Assignments.ReportWorkloadsAsync(new ReportWorkloadsRequest { NodeId = nodeId, Reports = { reports } });
                }
                catch (RpcException) when (!stopping.IsCancellationRequested)
                {
                }
            }
            try
            {
                await Task.Delay(100, stopping.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await agents;
        await Scheduler.DisposeAsync();
        foreach (var channel in computeChannels.Values) channel.Dispose();
        await Compute.DisposeAsync();
    }
}
