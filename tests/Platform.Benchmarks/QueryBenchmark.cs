extern alias telemetry;

using System.Diagnostics;
using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Platform.Telemetry.V1;
using Platform.TestSupport;
using RangeQueries = telemetry::Platform.Telemetry.Queries.RangeQueries;
using RangeQuery = telemetry::Platform.Telemetry.Queries.RangeQuery;
using PartitionedTable = telemetry::Platform.Telemetry.Storage.PartitionedTable;
using RollupJob = telemetry::Platform.Telemetry.Storage.RollupJob;
using TimePartitions = telemetry::Platform.Telemetry.Storage.TimePartitions;

namespace Platform.Benchmarks;

/// <summary>
/// Range queries over 1,000 series × 24 h at 10 s resolution (8.64 million samples): 1-minute buckets over the last
/// hour and 5-minute buckets over the whole day, grouped by node, through the REST API (HTTP, transcoding, JSON)
/// against the same query's SQL run directly (the range-query SQL and row reading, nothing else), and against the
/// same query forced onto raw samples — what the rollup tiers save — in one run.
/// </summary>
public static class QueryBenchmark
{
    const int Series = 1_000;
    const int Nodes = 100;
    static readonly TimeSpan Resolution = TimeSpan.FromSeconds(10);
    static readonly TimeSpan Day = TimeSpan.FromHours(24);

    public static async Task<int> RunAsync(int runs)
    {
        var database = await TestInfrastructure.CreateDatabaseAsync("bench_query");
        var port = Platform.AppHost.Hosting.Ports.Free();
        var grpcPort = Platform.AppHost.Hosting.Ports.Free();
        await using var host = await ServiceHost<telemetry::Program>.StartOnAsync(database, kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
            kestrel.Listen(IPAddress.Loopback, grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        await using var db = NpgsqlDataSource.Create(database);
        var end = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 10 * 10);
        var loaded = Stopwatch.StartNew();
        await LoadAsync(grpcPort, db, end);
        Console.WriteLine($"query: loaded {Series:N0} series × 24 h at 10 s ({Series * (int)(Day / Resolution):N0} samples) in {loaded.Elapsed.TotalSeconds:F0} s");
        var rolled = Stopwatch.StartNew();
        await RollUpAsync(host.Services, db);
        Console.WriteLine($"query: rolled the day up into 1-minute and 1-hour buckets in {rolled.Elapsed.TotalSeconds:F1} s");

        var ranges = host.Services.GetRequiredService<RangeQueries>();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", TestInfrastructure.Token("bench", "viewer", TimeSpan.FromDays(1)));
        foreach (var (label, window, step) in new[] { ("1-minute buckets over 1 h", TimeSpan.FromHours(1), TimeSpan.FromMinutes(1)), ("5-minute buckets over 24 h", Day, TimeSpan.FromMinutes(5)), ("1-hour buckets over 24 h", Day, TimeSpan.FromHours(1)) })
        {
            var request = new QueryRangeRequest
            {
                Name = "bench_cpu_usage", Aggregation = "avg", By = { "node" },
                StartMs = (end - window).ToUnixTimeMilliseconds(), EndMs = end.ToUnixTimeMilliseconds(), StepMs = (long)step.TotalMilliseconds,
            };
            var query = RangeQuery.From(request, end);
            var raw = query with { Tier = null };
            var url = $"/api/telemetry/query_range?name=bench_cpu_usage&aggregation=avg&by=node&startMs={request.StartMs}&endMs={request.EndMs}&stepMs={request.StepMs}";

            var groups = await ranges.RunAsync(query, CancellationToken.None);
            if (groups.Count != Nodes) throw new InvalidOperationException($"expected {Nodes} groups, got {groups.Count}");
            var sql = await TimeAsync(runs, () => ranges.RunAsync(query, CancellationToken.None));
            var rest = await TimeAsync(runs, async () => (await http.GetAsync(url)).EnsureSuccessStatusCode());
            var rawSql = await TimeAsync(Math.Min(runs, 5), () => ranges.RunAsync(raw, CancellationToken.None));
            Console.WriteLine($"{label,-28} REST p50 {rest.P50,7:F1} ms  p95 {rest.P95,7:F1} ms | SQL p50 {sql.P50,7:F1} ms  p95 {sql.P95,7:F1} ms | ratio p50 {rest.P50 / sql.P50:F2}x ({groups.Count} groups × {groups[0].Points.Count} buckets, {runs} runs, tier {query.Resolution})");
            Console.WriteLine($"{label,-28} raw-sample SQL p50 {rawSql.P50,7:F1} ms: the tier answers {rawSql.P50 / rest.P50:F1}x faster through REST");
        }
        return 0;
    }

    /// <summary>
    /// Rolls the loaded day up as the service would after a fresh start over existing data: partitions for the rollups,
    /// the watermarks reset to the oldest raw partition, then passes of the service's own job until it has caught up.
    /// </summary>
    static async Task RollUpAsync(IServiceProvider services, NpgsqlDataSource db)
    {
        await services.GetRequiredService<TimePartitions>().MaintainAsync(CancellationToken.None);
        await using (var reset = db.CreateCommand("DELETE FROM telemetry.rollup_progress"))
            await reset.ExecuteNonQueryAsync();
        var job = services.GetRequiredService<RollupJob>();
        while (!await job.RollUpAsync(CancellationToken.None)) { }
        await using var analyze = db.CreateCommand("ANALYZE telemetry.rollup_1m; ANALYZE telemetry.rollup_1h");
        await analyze.ExecuteNonQueryAsync();
    }

    static async Task<(double P50, double P95)> TimeAsync(int runs, Func<Task> query)
    {
        await query(); // warm-up
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await query();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.95) - 1]);
    }

    /// <summary>Series through the real ingest path (one sample each), then the day's samples by COPY into their partitions.</summary>
    static async Task LoadAsync(int grpcPort, NpgsqlDataSource db, DateTimeOffset end)
    {
        var client = new MetricIngestion.MetricIngestionClient(GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}",
            new GrpcChannelOptions { HttpHandler = new BearerHandler(TestInfrastructure.Token("bench", "agent")) { InnerHandler = new SocketsHttpHandler() } }));
        var seed = new SampleBatch { AgentId = "bench", Sequence = 1 };
        for (var i = 0; i < Series; i++)
            seed.Samples.Add(new Sample { Name = "bench_cpu_usage", Value = 0, TimestampMs = end.ToUnixTimeMilliseconds(), Labels = { ["node"] = $"n{i / (Series / Nodes):D3}", ["core"] = (i % (Series / Nodes)).ToString() } });
        using (var call = client.PushSamples())
        {
            await call.RequestStream.WriteAsync(seed);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        }

        for (var day = DateOnly.FromDateTime((end - Day).UtcDateTime); day <= DateOnly.FromDateTime(end.UtcDateTime); day = day.AddDays(1))
        {
            await using var partition = db.CreateCommand($"""
                CREATE TABLE IF NOT EXISTS telemetry.{PartitionedTable.Samples.PartitionName(day)} PARTITION OF telemetry.samples
                FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')
                """);
            await partition.ExecuteNonQueryAsync();
        }

        var ids = new List<long>();
        await using (var select = db.CreateCommand("SELECT series_id FROM telemetry.series WHERE name = 'bench_cpu_usage' ORDER BY series_id"))
        await using (var reader = await select.ExecuteReaderAsync())
            while (await reader.ReadAsync()) ids.Add(reader.GetInt64(0));

        var steps = (int)(Day / Resolution);
        await Task.WhenAll(ids.Chunk(ids.Count / 4).Select(async chunk =>
        {
            await using var connection = await db.OpenConnectionAsync();
            await using var copy = await connection.BeginBinaryImportAsync("COPY telemetry.samples (series_id, time, value) FROM STDIN (FORMAT BINARY)");
            foreach (var id in chunk)
                for (var s = 1; s <= steps; s++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(end - s * Resolution, NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync((id * 7 + s) % 100 * 1.0, NpgsqlDbType.Double);
                }
            await copy.CompleteAsync();
        }));
        await using var analyze = db.CreateCommand("ANALYZE telemetry.samples");
        await analyze.ExecuteNonQueryAsync();
    }
}
