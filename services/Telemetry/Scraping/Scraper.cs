using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.Telemetry.Ingestion;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Scraping;

/// <summary>
/// Scrapes Prometheus text-format targets every interval and stores what it reads like any agent's batch, plus
/// Prometheus' own series per target: <c>up</c>, <c>scrape_duration_seconds</c>, <c>scrape_samples_scraped</c>.
/// One replica scrapes at a time: the one holding a PostgreSQL advisory lock on its own connection.
/// </summary>
public sealed class Scraper(
    IHttpClientFactory clients, IOptions<ScrapeOptions> options, IConfiguration configuration, NpgsqlDataSource db,
    SampleWriter writer, SeriesInterner series, TimeProvider clock, ILogger<Scraper> logger) : BackgroundService
{
    const long LeaderLockKey = 0x73637261706572; // "scraper"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var targets = ScrapeTarget.Resolve(options.Value, configuration).ToList();
        if (targets.Count == 0) return;
        logger.LogInformation("Scraping {Count} targets every {Interval}: {Jobs}", targets.Count, options.Value.Interval, string.Join(", ", targets.Select(t => t.Job)));
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        await using var leadership = new SingleReplica(db, LeaderLockKey, logger);
        try
        {
            do
            {
                if (await leadership.IsMineAsync(stoppingToken))
                    await Task.WhenAll(targets.Select(target => ScrapeAsync(target, stoppingToken)));
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    async Task ScrapeAsync(ScrapeTarget target, CancellationToken cancellationToken)
    {
        var scrapedAt = clock.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var batch = new SampleBatch { AgentId = $"scrape:{target.Job}:{target.Instance}", Sequence = (ulong)scrapedAt.ToUnixTimeMilliseconds() };
        IReadOnlyList<StoredSample> samples;
        try
        {
            foreach (var exposed in await FetchAsync(target, cancellationToken))
                if (double.IsFinite(exposed.Value))
                    batch.Samples.Add(ToSample(exposed, target, scrapedAt));
            var scraped = batch.Samples.Count;
            AddScrapeSeries(batch, target, scrapedAt, up: true, Stopwatch.GetElapsedTime(started), scraped);
            samples = SampleBatchValidator.Validate(batch, scrapedAt, series);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or FormatException or RpcException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Scrape of {Job} at {Url} failed: {Reason}", target.Job, target.Url, ex is RpcException rpc ? rpc.Status.Detail : ex.Message);
            batch.Samples.Clear();
            AddScrapeSeries(batch, target, scrapedAt, up: false, Stopwatch.GetElapsedTime(started), 0);
            samples = SampleBatchValidator.Validate(batch, scrapedAt, series);
        }

        try
        {
            await writer.WriteBatchAsync(batch.AgentId, epoch: 0, (long)batch.Sequence, samples, cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            logger.LogError(ex, "Storing the scrape of {Job} failed", target.Job);
        }
    }

    async Task<IReadOnlyList<ExposedSample>> FetchAsync(ScrapeTarget target, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, target.Url);
        request.Headers.Accept.ParseAdd("text/plain;version=0.0.4");
        using var response = await clients.CreateClient("scrape").SendAsync(request, timeout.Token);
        response.EnsureSuccessStatusCode();
        return PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
    }

    // As Prometheus does without honor_labels: the target's job and instance win, the exposed ones are kept as exported_*.
    static Sample ToSample(ExposedSample exposed, ScrapeTarget target, DateTimeOffset scrapedAt)
    {
        var sample = new Sample { Name = exposed.Name, Value = exposed.Value, TimestampMs = exposed.TimestampMs ?? scrapedAt.ToUnixTimeMilliseconds() };
        foreach (var (key, value) in exposed.Labels)
            sample.Labels[key is "job" or "instance" ? $"exported_{key}" : key] = value;
        sample.Labels["job"] = target.Job;
        sample.Labels["instance"] = target.Instance;
        return sample;
    }

    static void AddScrapeSeries(SampleBatch batch, ScrapeTarget target, DateTimeOffset scrapedAt, bool up, TimeSpan duration, int scraped)
    {
        void Add(string name, double value) => batch.Samples.Add(new Sample
        {
            Name = name, Value = value, TimestampMs = scrapedAt.ToUnixTimeMilliseconds(),
            Labels = { ["job"] = target.Job, ["instance"] = target.Instance },
        });
        Add("up", up ? 1 : 0);
        Add("scrape_duration_seconds", duration.TotalSeconds);
        Add("scrape_samples_scraped", scraped);
    }
}
