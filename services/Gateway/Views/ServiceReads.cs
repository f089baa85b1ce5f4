using System.Text.Json.Nodes;
using Grpc.Core;
using Platform.Compute.V1;
using Platform.Telemetry.V1;

namespace Platform.Gateway.Views;

/// <summary>
/// The services' own read RPCs, called with the gateway's viewer token and a deadline of a few seconds: a service that does not
/// answer within it is shown as such rather than holding the view back.
/// </summary>
public sealed class ServiceReads(
    Compute.V1.Compute.ComputeClient registry,
    NodeInsight.NodeInsightClient nodes,
    Compute.V1.Workloads.WorkloadsClient workloads,
    Compute.V1.Devices.DevicesClient devices,
    Dashboard.DashboardClient monitoring,
    MonitoringViews.MonitoringViewsClient monitoringViews,
    MetricQueries.MetricQueriesClient metrics,
    Compute.V1.Benchmarks.BenchmarksClient benchmarks,
    Scheduler.V1.Scheduler.SchedulerClient scheduler,
    Tokenomics.V1.Tokenomics.TokenomicsClient tokenomics,
    Privacy.V1.Privacy.PrivacyClient privacy,
    GatewayViewerToken token,
    TimeProvider clock)
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    // gRPC deadlines are wall-clock times, whatever clock the views' windows use.
    CallOptions Call(CancellationToken cancellationToken) => new(token.Headers(), DateTime.UtcNow + Deadline, cancellationToken);

    public Task<ListNodesResponse> NodesAsync(CancellationToken ct) => registry.ListNodesAsync(new ListNodesRequest(), Call(ct)).ResponseAsync;
    public Task<ResourcesSummary> ResourcesAsync(CancellationToken ct) => nodes.GetResourcesAsync(new GetResourcesRequest(), Call(ct)).ResponseAsync;
    public Task<WorkloadStats> WorkloadStatsAsync(CancellationToken ct) => workloads.GetWorkloadStatsAsync(new GetWorkloadStatsRequest(), Call(ct)).ResponseAsync;
    public Task<ListWorkloadsResponse> WorkloadsAsync(CancellationToken ct) => workloads.ListWorkloadsAsync(new ListWorkloadsRequest(), Call(ct)).ResponseAsync;
    public Task<DeviceStats> DevicesAsync(CancellationToken ct) => devices.GetDeviceStatsAsync(new GetDeviceStatsRequest(), Call(ct)).ResponseAsync;
    public Task<Overview> MonitoringAsync(CancellationToken ct) => monitoring.GetOverviewAsync(new GetOverviewRequest(), Call(ct)).ResponseAsync;
    /// <summary>Each node's system metrics over the last two minutes, by minute (the newest bucket is the current figure).</summary>
    public Task<MetricsView> SystemMetricsAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return monitoringViews.GetSystemMetricsAsync(new SystemMetricsRequest
        {
            StartMs = (now - TimeSpan.FromMinutes(2)).ToUnixTimeMilliseconds(), EndMs = now.ToUnixTimeMilliseconds(), StepMs = 60_000,
        }, Call(ct)).ResponseAsync;
    }

    /// <summary>The newest benchmark result of each benchmark on each node (and peer, for the network).</summary>
    public async Task<BenchmarkData> LatestBenchmarksAsync(CancellationToken ct) =>
        await benchmarks.GetBenchmarkDataAsync(new GetBenchmarkDataRequest { Limit = 1 }, Call(ct));

    /// <summary>Each node's traffic per interface over the last minute, in bytes per second, in one direction (receive or transmit).</summary>
    public async Task<QueryRangeResponse> InterfaceRatesAsync(string direction, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var request = new QueryRangeRequest
        {
            Name = $"node_network_{direction}_bytes_total", Aggregation = "rate", StepMs = 60_000, Resolution = "raw",
            StartMs = (now - TimeSpan.FromMinutes(1)).ToUnixTimeMilliseconds(), EndMs = now.ToUnixTimeMilliseconds(),
        };
        request.By.Add(["node", "interface"]);
        return await metrics.QueryRangeAsync(request, Call(ct));
    }

    public Task<WorkloadUsageResponse> WorkloadUsageAsync(CancellationToken ct) => monitoringViews.GetWorkloadUsageAsync(new WorkloadUsageRequest(), Call(ct)).ResponseAsync;
    public Task<Scheduler.V1.SchedulerStats> JobsAsync(CancellationToken ct) => scheduler.GetStatsAsync(new Scheduler.V1.GetStatsRequest(), Call(ct)).ResponseAsync;
    public Task<Tokenomics.V1.TokenStats> TokensAsync(CancellationToken ct) => tokenomics.GetStatsAsync(new Tokenomics.V1.GetStatsRequest(), Call(ct)).ResponseAsync;
    public Task<Privacy.V1.BetanetStatus> RelaysAsync(CancellationToken ct) => privacy.GetBetanetStatusAsync(new Privacy.V1.GetBetanetStatusRequest(), Call(ct)).ResponseAsync;
    public Task<Privacy.V1.P2PStats> PeersAsync(CancellationToken ct) => privacy.GetP2PStatsAsync(new Privacy.V1.GetP2PStatsRequest(), Call(ct)).ResponseAsync;
    public Task<Privacy.V1.CircuitStats> CircuitsAsync(CancellationToken ct) => privacy.GetCircuitStatsAsync(new Privacy.V1.GetCircuitStatsRequest(), Call(ct)).ResponseAsync;

    /// <summary>
    /// One section of a view: what <paramref name="read"/> returned, shaped by <paramref name="shape"/>, or — when the
    /// service did not answer — <c>{"error": "..."}</c> saying why, so the rest of the view still stands.
    /// </summary>
    public static async Task<JsonNode> SectionAsync<T>(Func<CancellationToken, Task<T>> read, Func<T, JsonNode> shape, CancellationToken cancellationToken) where T : class
    {
        var (value, error) = await TryAsync(read, cancellationToken);
        return value is not null ? shape(value) : error!;
    }

    /// <summary>What <paramref name="read"/> returned, or — when the service did not answer — <c>{"error": "..."}</c> saying why.</summary>
    public static async Task<(T? Value, JsonObject? Error)> TryAsync<T>(Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return (await read(cancellationToken), null);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new JsonObject { ["error"] = $"{ex.StatusCode}: {ex.Status.Detail}" });
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return (null, new JsonObject { ["error"] = $"Unavailable: {ex.Message}" });
        }
    }
}
