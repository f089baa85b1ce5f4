using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Benchmarks;

/// <summary>
/// Moves the active benchmark run on, one step a second, on one replica: starts its next task's workload (for the
/// network, the server on the peer first, then the client once the server says where it listens), and when that
/// workload has exited reads its output from the node, keeps the results (here and as Telemetry series), and deletes
/// the workload. Everything it needs is in the database, so a restarted Compute carries on where the last one stopped.
/// A task that runs longer than three minutes fails.
/// </summary>
public sealed class BenchmarkRunner(
    NpgsqlDataSource db, BenchmarkStore store, WorkloadStore workloads, WorkloadLifecycle lifecycle, NodeStore nodes, NodeAgentClients agents,
    BenchmarkSeries series, EventPublisher events, IOptions<NodeLeaseOptions> leases, TimeProvider clock, ILogger<BenchmarkRunner> logger)
    : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x62656E6368; // "bench"
    public const string Owner = "benchmarks";
    static readonly TimeSpan TaskTimeout = TimeSpan.FromMinutes(3);

    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);
    protected override string Description => "Running benchmarks";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (await store.ActiveRunAsync(cancellationToken) is not { } runId) return;
        var tasks = await store.TasksAsync(runId, cancellationToken);
        var task = tasks.FirstOrDefault(t => t.State is "pending" or "running");
        if (task is null)
        {
            var state = tasks.Any(t => t.State == "completed") ? "completed" : "failed";
            if (await store.FinishAsync(runId, state, Clock.GetUtcNow(), cancellationToken))
                await PublishAsync($"benchmark.{state}", runId, cancellationToken);
            return;
        }
        try
        {
            if (task.State == "pending") await StartAsync(task, cancellationToken);
            else await AdvanceAsync(task, cancellationToken);
        }
        catch (Exception ex) when (ex is RpcException or DomainException && !cancellationToken.IsCancellationRequested)
        {
            // The node is full, gone or not Ready, or its agent did not answer: this task fails, the run goes on.
            await FailAsync(task, ex is RpcException rpc ? rpc.Status.Detail : ex.Message, cancellationToken);
        }
    }

    async Task StartAsync(BenchmarkTaskRow task, CancellationToken cancellationToken)
    {
        var node = await ReadyNodeAsync(task.NodeId, cancellationToken);
        var now = Clock.GetUtcNow();
        if (task.Kind == "network")
        {
            var peer = await ReadyNodeAsync(task.PeerNodeId!.Value, cancellationToken);
            var (server, _) = await lifecycle.CreateAsync(
                BenchmarkPlan.Workload(task.RunId, task.Position, peer.NodeId, "network-server", [BenchmarkPlan.AddressOf(peer)], task.Secret), Owner, cancellationToken);
            await UpdateAsync(task with { State = "running", ServerWorkloadId = server.WorkloadId, StartedAt = now }, cancellationToken);
        }
        else
        {
            var (workload, _) = await lifecycle.CreateAsync(BenchmarkPlan.Workload(task.RunId, task.Position, node.NodeId, task.Kind, [], null), Owner, cancellationToken);
            await UpdateAsync(task with { State = "running", WorkloadId = workload.WorkloadId, StartedAt = now }, cancellationToken);
        }
        logger.LogInformation("Benchmark {Kind} started on node {NodeName} (run {RunId})", task.Kind, node.Name, task.RunId);
        await PublishAsync("benchmark.task_started", task.RunId, cancellationToken);
    }

    async Task AdvanceAsync(BenchmarkTaskRow task, CancellationToken cancellationToken)
    {
        if (Clock.GetUtcNow() - task.StartedAt > TaskTimeout)
        {
            await FailAsync(task, $"did not finish within {TaskTimeout.TotalMinutes:0} minutes", cancellationToken);
            return;
        }
        if (task.Kind == "network" && task.WorkloadId is null)
        {
            // The client starts once the server says where it listens.
            var server = await workloads.GetAsync(task.ServerWorkloadId!.Value, cancellationToken);
            if (server is null || Finished(server))
            {
                await FailAsync(task, $"the server on the peer ended before a client connected: {await OutputAsync(server, "stderr", cancellationToken)}", cancellationToken);
                return;
            }
            if (server.PowerState != "running" || BenchmarkPlan.Listening(await OutputAsync(server, "stdout", cancellationToken)) is not { } at) return;
            // The client goes only where Compute told the server to listen: a peer's output cannot aim it elsewhere.
            var peer = await ReadyNodeAsync(task.PeerNodeId!.Value, cancellationToken);
            if (at.Host != BenchmarkPlan.AddressOf(peer))
            {
                await FailAsync(task, $"the server on {peer.Name} says it listens at {at.Host}, not at the address it was given", cancellationToken);
                return;
            }
            var (client, _) = await lifecycle.CreateAsync(
                BenchmarkPlan.Workload(task.RunId, task.Position, task.NodeId, "network-client", [at.Host, at.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], task.Secret),
                Owner, cancellationToken);
            await UpdateAsync(task with { WorkloadId = client.WorkloadId }, cancellationToken);
            return;
        }

        var workload = await workloads.GetAsync(task.WorkloadId!.Value, cancellationToken);
        if (workload is not null && !Finished(workload)) return;
        var stdout = await OutputAsync(workload, "stdout", cancellationToken);
        var parsed = BenchmarkPlan.Parse(stdout, task.Kind);
        if (workload?.ExitCode != 0 || parsed.Count == 0)
        {
            await FailAsync(task, $"exited with {workload?.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no exit code"}: " +
                $"{await OutputAsync(workload, "stderr", cancellationToken)}{workload?.Message}", cancellationToken);
            return;
        }
        var node = await nodes.GetAsync(task.NodeId, cancellationToken);
        var measuredAt = (workload.FinishedAt ?? Clock.GetUtcNow()).ToUnixTimeMilliseconds();
        var results = parsed.Select(r => new BenchmarkResult
        {
            RunId = task.RunId.ToString(), NodeId = task.NodeId.ToString(), NodeName = node?.Name ?? "", Benchmark = r.Benchmark, Value = r.Value,
            Unit = r.Unit, Method = r.Method, PeerNodeId = task.PeerNodeId?.ToString() ?? "", MeasuredAtMs = measuredAt,
        }).ToList();
        await store.CompleteTaskAsync(task, results, cancellationToken);
        await series.ShipAsync(results, cancellationToken);
        await RemoveWorkloadsAsync(task, cancellationToken);
        logger.LogInformation("Benchmark {Kind} on node {NodeName} measured {Results}", task.Kind, node?.Name, string.Join(", ", results.Select(r => $"{r.Benchmark}={r.Value:G4} {r.Unit}")));
        await PublishAsync("benchmark.task_completed", task.RunId, cancellationToken);
    }

    async Task FailAsync(BenchmarkTaskRow task, string error, CancellationToken cancellationToken)
    {
        var reason = error.Length > 2000 ? error[^2000..] : error;
        if (!await store.UpdateTaskAsync(task with { State = "failed", Error = reason.Trim() }, cancellationToken)) return;
        logger.LogWarning("Benchmark {Kind} on node {NodeId} failed (run {RunId}): {Reason}", task.Kind, task.NodeId, task.RunId, reason);
        await RemoveWorkloadsAsync(task, cancellationToken);
        await PublishAsync("benchmark.task_failed", task.RunId, cancellationToken);
    }

    async Task UpdateAsync(BenchmarkTaskRow task, CancellationToken cancellationToken)
    {
        if (!await store.UpdateTaskAsync(task, cancellationToken))
            await RemoveWorkloadsAsync(task, cancellationToken); // the run was stopped meanwhile: what was just started goes too
    }

    /// <summary>Deletes a task's workloads (they have done their work, or must stop).</summary>
    public async Task RemoveWorkloadsAsync(BenchmarkTaskRow task, CancellationToken cancellationToken)
    {
        foreach (var id in new[] { task.WorkloadId, task.ServerWorkloadId }.OfType<Guid>())
        {
            if (await workloads.GetAsync(id, cancellationToken) is not { VmState: not VmStates.Deleted, TaskState: not TaskStates.Deleting }) continue;
            try
            {
                await lifecycle.ActAsync(id, WorkloadTransitions.Delete, Owner, cancellationToken);
            }
            catch (WorkloadConflictException)
            {
                // Being deleted already (an operator, or a stop at the same moment).
            }
        }
    }

    async Task<NodeRecord> ReadyNodeAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        var node = await nodes.GetAsync(nodeId, cancellationToken) ?? throw new RpcException(new Status(StatusCode.NotFound, $"node {nodeId} is gone"));
        var status = node.Status(Clock.GetUtcNow(), leases.Value);
        return status == NodeStatuses.Ready ? node : throw new RpcException(new Status(StatusCode.FailedPrecondition, $"node {node.Name} is {status}"));
    }

    static bool Finished(WorkloadRecord workload) =>
        workload.VmState is VmStates.Stopped or VmStates.Error or VmStates.Lost or VmStates.Deleted && workload.TaskState == TaskStates.None;

    /// <summary>The tail of a workload's stdout or stderr, read from its node ("" when it cannot be).</summary>
    async Task<string> OutputAsync(WorkloadRecord? workload, string stream, CancellationToken cancellationToken)
    {
        if (workload?.NodeId is not { } nodeId || await nodes.GetAsync(nodeId, cancellationToken) is not { } node) return "";
        try
        {
            var log = await agents.CallAsync(node, (client, options) => client.ReadWorkloadLogAsync(
                new ReadWorkloadLogRequest { WorkloadId = workload.WorkloadId.ToString(), Stream = stream, TailBytes = 64 * 1024 }, options), cancellationToken);
            return log.Text;
        }
        catch (RpcException ex)
        {
            return $"(its {stream} could not be read: {ex.Status.Detail})";
        }
    }

    async Task PublishAsync(string type, Guid runId, CancellationToken cancellationToken)
    {
        if (await store.RunAsync(runId, withResults: false, cancellationToken) is { } run)
            await events.PublishAsync("workloads", type, run);
    }
}
