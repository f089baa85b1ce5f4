using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Benchmarks;

/// <summary>
/// Seed 003's <c>/api/benchmarks/*</c> and seed 000's <c>/api/actions/run_benchmark</c>: runs planned here and carried
/// out by <see cref="BenchmarkRunner"/>, one at a time; their results, newest and history.
/// </summary>
public sealed class BenchmarkService(
    BenchmarkStore store, BenchmarkRunner runner, NodeStore nodes, EventPublisher events, IOptions<NodeLeaseOptions> leases, TimeProvider clock,
    ILogger<BenchmarkService> logger) : V1.Benchmarks.BenchmarksBase
{
    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<BenchmarkRun> StartBenchmark(StartBenchmarkRequest request, ServerCallContext context)
    {
        var kinds = request.Kinds.Count == 0 ? BenchmarkPlan.Kinds : [.. request.Kinds.Distinct()];
        new RequestValidation()
            .Require(kinds.All(BenchmarkPlan.Kinds.Contains), "kinds", $"each must be one of {string.Join(", ", BenchmarkPlan.Kinds)}")
            .Require(request.NodeIds.All(id => Guid.TryParse(id, out _)), "node_ids", "each must be a UUID")
            .Require(request.NodeIds.Count <= 256, "node_ids", "at most 256")
            .ThrowIfInvalid();

        var now = clock.GetUtcNow();
        var all = await nodes.ListAsync(context.CancellationToken);
        // Where placement would put a workload: Ready, admitted, schedulable (not cordoned or draining), with the driver.
        var able = all.Where(n => n.Status(now, leases.Value) == NodeStatuses.Ready && n.Admission == NodeAdmissions.Admitted && n.Schedulable && !n.Draining
            && (n.Drivers ?? []).Any(d => d.Name == "benchmark" && d.Available)).ToList();
        List<NodeRecord> chosen;
        if (request.NodeIds.Count == 0) chosen = able;
        else
        {
            var wanted = request.NodeIds.Select(Guid.Parse).ToHashSet();
            var unable = wanted.Where(id => able.All(n => n.NodeId != id)).ToList();
            if (unable.Count > 0)
                throw new InvalidFieldException("node_ids", $"{string.Join(", ", unable.Select(id => Describe(id, all, now)))}");
            chosen = [.. able.Where(n => wanted.Contains(n.NodeId))];
        }
        new RequestValidation()
            .Require(chosen.Count > 0, "node_ids", "no Ready node can run benchmarks")
            .Require(!kinds.Contains("network") || chosen.Count >= 2 || request.Kinds.Count == 0, "kinds", "the network benchmark needs two nodes")
            .ThrowIfInvalid();

        var runId = Guid.NewGuid();
        var tasks = BenchmarkPlan.Tasks(chosen, kinds);
        if (!await store.CreateAsync(runId, kinds, context.Caller(), tasks, now, context.CancellationToken))
            throw new RpcException(new Status(StatusCode.Aborted, "A benchmark run is in progress: wait for it or stop it (POST /api/benchmarks/stop); two runs would disturb each other's figures."));
        logger.LogInformation("Benchmark run {RunId} of {Kinds} on {Nodes} started by {Caller}", runId, string.Join(", ", kinds), string.Join(", ", chosen.Select(n => n.Name)), context.Caller());
        var run = (await store.RunAsync(runId, withResults: false, context.CancellationToken))!;
        await events.PublishAsync("workloads", "benchmark.started", run);
        return run;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<StopBenchmarkResponse> StopBenchmark(StopBenchmarkRequest request, ServerCallContext context)
    {
        var runId = request.RunId == "" ? await store.ActiveRunAsync(context.CancellationToken) : RequestValidation.RequireGuid(request.RunId, "run_id");
        var response = new StopBenchmarkResponse();
        if (runId is not { } id) return response;
        if (await store.RunAsync(id, false, context.CancellationToken) is null)
            throw new RpcException(new Status(StatusCode.NotFound, $"Benchmark run {id} does not exist."));
        if (await store.FinishAsync(id, "stopped", clock.GetUtcNow(), context.CancellationToken))
        {
            // Read after the stop committed: the runner records nothing more for this run (a workload it starts meanwhile
            // it removes itself), so every workload the run has is in what is read now.
            foreach (var task in await store.TasksAsync(id, context.CancellationToken)) await runner.RemoveWorkloadsAsync(task, context.CancellationToken);
            logger.LogInformation("Benchmark run {RunId} stopped by {Caller}", id, context.Caller());
            var run = (await store.RunAsync(id, withResults: true, context.CancellationToken))!;
            await events.PublishAsync("workloads", "benchmark.stopped", run);
            response.Runs.Add(run);
        }
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<BenchmarkRun> GetBenchmarkRun(BenchmarkRunRequest request, ServerCallContext context) =>
        await store.RunAsync(RequestValidation.RequireGuid(request.RunId, "run_id"), withResults: true, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Benchmark run {request.RunId} does not exist."));

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<BenchmarkData> GetBenchmarkData(GetBenchmarkDataRequest request, ServerCallContext context)
    {
        new RequestValidation()
            .Require(request.NodeId == "" || Guid.TryParse(request.NodeId, out _), "node_id", "must be a UUID")
            .Require(request.Benchmark.Length <= 64, "benchmark", "at most 64 characters")
            .Require(request.Limit is >= 0 and <= 1000, "limit", "must be between 0 and 1000")
            .ThrowIfInvalid();
        Guid? nodeId = request.NodeId == "" ? null : Guid.Parse(request.NodeId);
        var data = new BenchmarkData();
        data.Latest.AddRange(await store.LatestAsync(nodeId, request.Benchmark, context.CancellationToken));
        data.History.AddRange(await store.HistoryAsync(nodeId, request.Benchmark, request.Limit == 0 ? 100 : request.Limit, context.CancellationToken));
        data.Runs.AddRange(await store.RecentRunsAsync(10, context.CancellationToken));
        return data;
    }

    static string Describe(Guid id, IReadOnlyList<NodeRecord> all, DateTimeOffset now) => all.FirstOrDefault(n => n.NodeId == id) is not { } node
        ? $"{id} is not a node"
        : (node.Drivers ?? []).FirstOrDefault(d => d.Name == "benchmark") is not { Available: true } driver
            ? $"{node.Name} cannot run benchmarks ({((node.Drivers ?? []).FirstOrDefault(d => d.Name == "benchmark")?.Reason is { Length: > 0 } reason ? reason : "its agent has no benchmark driver")})"
            : $"{node.Name} is not Ready";
}
