using Platform.Telemetry.V1;

namespace Platform.Privacy.Deployment;

/// <summary>
/// What the relays measured, read back from Telemetry: each <c>relay_*</c> series' latest value per node (the maximum
/// over the last two minutes, which for a counter is its latest total). A node with no sample is absent, never 0.
/// </summary>
public sealed class RelayMeasurements(MetricQueries.MetricQueriesClient telemetry, TimeProvider clock)
{
    static readonly TimeSpan Window = TimeSpan.FromMinutes(2);

    public async Task<IReadOnlyDictionary<string, double>> LatestByNodeAsync(string metric, CancellationToken cancellationToken) =>
        (await LatestAsync(metric, ["node"], cancellationToken)).ToDictionary(s => s.Labels["node"], s => s.Value);

    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> LatestAsync(string metric, string[] by, CancellationToken cancellationToken)
    {
        var end = clock.GetUtcNow();
        var response = await telemetry.QueryRangeAsync(new QueryRangeRequest
        {
            Name = metric, Aggregation = "max", By = { by }, StartMs = (end - Window).ToUnixTimeMilliseconds(), EndMs = end.ToUnixTimeMilliseconds(),
            StepMs = (long)Window.TotalMilliseconds, Resolution = "raw",
        }, cancellationToken: cancellationToken);
        return [.. response.Series
            .Where(s => by.All(l => s.Labels.ContainsKey(l) && s.Labels[l] != "") && s.Points.Any(p => double.IsFinite(p.Value)))
            .Select(s => ((IReadOnlyDictionary<string, string>)s.Labels.ToDictionary(), s.Points.Where(p => double.IsFinite(p.Value)).Max(p => p.Value)))];
    }
}
