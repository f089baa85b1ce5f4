using Microsoft.AspNetCore.Authorization;
using Grpc.Core;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Queries;

/// <summary>Metric names and raw samples, for REST (through the gateway) and gRPC callers.</summary>
public sealed class MetricQueryService(SampleReader reader, RangeQueries ranges, TimeProvider clock) : MetricQueries.MetricQueriesBase
{
    const int DefaultLimit = 1000;
    const int MaxLimit = 10_000;
    static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(5);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListMetricNamesResponse> ListMetricNames(ListMetricNamesRequest request, ServerCallContext context)
    {
        var response = new ListMetricNamesResponse();
        response.Names.AddRange(await reader.MetricNamesAsync(context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<QuerySamplesResponse> QuerySamples(QuerySamplesRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var until = request.UntilMs == 0 ? now : RangeQuery.FromMs(request.UntilMs);
        var since = request.SinceMs == 0 ? until - DefaultWindow : RangeQuery.FromMs(request.SinceMs);
        new RequestValidation()
            .Require(!string.IsNullOrWhiteSpace(request.Name), "name", "is required")
            .Require(request.SinceMs >= 0, "since_ms", "must not be negative")
            .Require(request.UntilMs >= 0, "until_ms", "must not be negative")
            .Require(since <= until, "since_ms", "must not be after until_ms")
            .Require(request.Limit is >= 0 and <= MaxLimit, "limit", $"must be between 1 and {MaxLimit} (0 means {DefaultLimit})")
            .ThrowIfInvalid();

        var series = await reader.SamplesAsync(
            request.Name, string.IsNullOrEmpty(request.Node) ? null : request.Node, since, until,
            request.Limit == 0 ? DefaultLimit : request.Limit, context.CancellationToken);

        var response = new QuerySamplesResponse();
        response.Series.AddRange(series.Select(ToMessage));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<QueryRangeResponse> QueryRange(QueryRangeRequest request, ServerCallContext context)
    {
        var query = RangeQuery.From(request, clock.GetUtcNow());
        var response = new QueryRangeResponse { Aggregation = query.Aggregation, StepMs = (long)query.Step.TotalMilliseconds, Resolution = query.Resolution };
        response.Series.AddRange((await ranges.RunAsync(query, context.CancellationToken)).Select(ToMessage));
        return response;
    }

    static Series ToMessage(SeriesPoints series)
    {
        var message = new Series { Name = series.Name };
        message.Labels.Add(series.Labels);
        message.Points.AddRange(series.Points.Select(p => new Point { TimestampMs = p.Time.ToUnixTimeMilliseconds(), Value = p.Value }));
        return message;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListMetricNamesResponse> SearchMetricNames(SearchMetricNamesRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.Q.Length is > 0 and <= 200, "q", "must be 1-200 characters").ThrowIfInvalid();
        var response = new ListMetricNamesResponse();
        response.Names.AddRange(await reader.SearchNamesAsync(request.Q, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<LatestValuesResponse> LatestValues(LatestValuesRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.AgentId.Length <= 128, "agent_id", "at most 128 characters").ThrowIfInvalid();
        var series = await reader.LatestAsync(clock.GetUtcNow() - DefaultWindow, request.AgentId == "" ? null : request.AgentId, 1000, context.CancellationToken);
        var response = new LatestValuesResponse();
        response.Series.AddRange(series.Select(ToMessage));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<StorageStats> GetStorageStats(GetStorageStatsRequest request, ServerCallContext context)
    {
        var figures = await reader.StatsAsync(clock.GetUtcNow().AddMinutes(-1), context.CancellationToken);
        var oldestDay = figures.OldestPartition is { } oldest && DateOnly.TryParseExact(oldest.Replace("samples_p", ""), "yyyyMMdd", out var day)
            ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds()
            : 0;
        return new StorageStats
        {
            Series = figures.Series, SamplesEstimated = figures.SamplesEstimated, SamplesLastMinute = figures.LastMinute,
            IngestRate = figures.LastMinute / 60.0, Partitions = figures.Partitions, OldestSampleMs = oldestDay,
            RolledUp1MUntilMs = figures.MinutesRolledUntil?.ToUnixTimeMilliseconds() ?? 0,
            RolledUp1HUntilMs = figures.HoursRolledUntil?.ToUnixTimeMilliseconds() ?? 0,
        };
    }
}
