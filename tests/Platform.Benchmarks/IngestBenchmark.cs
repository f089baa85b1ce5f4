extern alias telemetry;

using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Npgsql;
using NpgsqlTypes;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// End-to-end ingest (agents' gRPC batches → validated → committed in PostgreSQL → acknowledged) against raw Npgsql
/// binary COPY of the same rows into the same table, with the same batch size, commit granularity and concurrency,
/// in one run over one PostgreSQL. Rounds alternate which path goes first; the median round is reported.
/// Agents live on other machines: their batches are encoded before the clock starts, so the two cores measured here
/// carry what the platform does (HTTP/2, gRPC, validation, COPY, PostgreSQL), not what the agents do.
/// </summary>
public static class IngestBenchmark
{
    const int Agents = 4;
    const int BatchSize = 1_000;
    const int SeriesPerAgent = 250;
    const int Rounds = 5;

    public static async Task<int> RunAsync(int samples)
    {
        var batchesPerAgent = Math.Max(1, samples / (Agents * BatchSize));
        var total = batchesPerAgent * Agents * BatchSize;
        var database = await TestInfrastructure.CreateDatabaseAsync("bench");
        var port = Platform.AppHost.Hosting.Ports.Free();
        await using var host = await ServiceHost<telemetry::Program>.StartOnAsync(database,
            kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2),
            // The rate limit would throttle the benchmark itself; the series limit stays on, its check costs what it costs.
            new Dictionary<string, string> { ["Telemetry:Limits:SamplesPerSecond"] = "0" });
        await using var db = new NpgsqlDataSourceBuilder(database) { ConnectionStringBuilder = { MaxPoolSize = Agents } }.Build();

        Console.WriteLine($"ingest: {total:N0} samples per path and round, {Agents} agents × {batchesPerAgent} batches × {BatchSize:N0} samples, {Agents * SeriesPerAgent} series");
        var clients = Enumerable.Range(0, Agents).Select(a => GrpcChannel.ForAddress(
            $"http://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = new BearerHandler(TestInfrastructure.Token($"bench-{a}", "agent")) { InnerHandler = new SocketsHttpHandler() } }).CreateCallInvoker()).ToArray();

        ulong sequence = 0;
        var warmup = Batches(Math.Max(1, batchesPerAgent / 4), ref sequence);
        await PushAsync(clients, Encode(warmup));
        await CopyAsync(db, warmup);

        var platform = new List<Measurement>();
        var copy = new List<Measurement>();
        for (var round = 0; round < Rounds; round++)
        {
            var batches = Batches(batchesPerAgent, ref sequence);
            var encoded = Encode(batches);
            var order = round % 2 == 0 ? new[] { "copy", "platform" } : ["platform", "copy"];
            foreach (var path in order)
            {
                await TruncateAsync(db);
                if (path == "copy") copy.Add(await MeasureAsync(total, () => CopyAsync(db, batches)));
                else platform.Add(await MeasureAsync(total, () => PushAsync(clients, encoded)));
            }
        }

        var p = Median(platform);
        var c = Median(copy);
        Console.WriteLine($"platform (gRPC → committed): {p.SamplesPerSecond,12:N0} samples/s   CPU {p.CpuPerMillion:F2} s per million samples (process {p.SelfCpu:F2} s + postgres {p.PostgresCpu:F2} s)");
        Console.WriteLine($"raw binary COPY (baseline):  {c.SamplesPerSecond,12:N0} samples/s   CPU {c.CpuPerMillion:F2} s per million samples (process {c.SelfCpu:F2} s + postgres {c.PostgresCpu:F2} s)");
        Console.WriteLine($"ratio platform / COPY:       {p.SamplesPerSecond / c.SamplesPerSecond:F2}x (goal ≥ 0.60)");
        Console.WriteLine($"rounds (samples/s): platform [{string.Join(", ", platform.Select(m => m.SamplesPerSecond.ToString("N0")))}], copy [{string.Join(", ", copy.Select(m => m.SamplesPerSecond.ToString("N0")))}]");
        return 0;
    }

    sealed record Measurement(double SamplesPerSecond, double SelfCpu, double PostgresCpu, double CpuPerMillion);

    static async Task<Measurement> MeasureAsync(int samples, Func<Task> run)
    {
        var cpu = new CpuMeter();
        var clock = Stopwatch.StartNew();
        await run();
        var seconds = clock.Elapsed.TotalSeconds;
        var (self, postgres) = cpu.Elapsed();
        return new(samples / seconds, self, postgres, (self + postgres) / (samples / 1e6));
    }

    static Measurement Median(List<Measurement> measurements) => measurements.OrderBy(m => m.SamplesPerSecond).ElementAt(measurements.Count / 2);

    /// <summary>
    /// Per agent, its batches; every sample a distinct (series, time). Timestamps are current, as a live agent's are:
    /// the round is sent within seconds, so no batch is old enough to count as late (re-rolled) for the rollups.
    /// </summary>
    static SampleBatch[][] Batches(int perAgent, ref ulong sequence)
    {
        var start = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeMilliseconds();
        var result = new SampleBatch[Agents][];
        for (var a = 0; a < Agents; a++)
        {
            result[a] = new SampleBatch[perAgent];
            for (var b = 0; b < perAgent; b++)
            {
                var batch = new SampleBatch { AgentId = $"bench-{a}", Sequence = ++sequence };
                for (var i = 0; i < BatchSize; i++)
                {
                    var n = (long)b * BatchSize + i;
                    batch.Samples.Add(new Sample
                    {
                        Name = "bench_value",
                        Labels = { ["node"] = $"bench-{a}", ["series"] = (n % SeriesPerAgent).ToString() },
                        Value = n * 0.5,
                        TimestampMs = start + n / SeriesPerAgent, // one timestamp per step of the series
                    });
                }
                result[a][b] = batch;
            }
        }
        return result;
    }

    // PushSamples with the request already encoded, as it arrives from a remote agent.
    static readonly Method<byte[], BatchAck> PushEncoded = new(MethodType.DuplexStreaming, "platform.telemetry.v1.MetricIngestion", "PushSamples",
        Marshallers.Create(bytes => bytes, bytes => bytes), Marshallers.Create(ack => ack.ToByteArray(), BatchAck.Parser.ParseFrom));

    static byte[][][] Encode(SampleBatch[][] batches) => [.. batches.Select(agent => agent.Select(b => b.ToByteArray()).ToArray())];

    static Task PushAsync(CallInvoker[] clients, byte[][][] batches) =>
        Task.WhenAll(clients.Select(async (client, a) =>
        {
            using var call = client.AsyncDuplexStreamingCall(PushEncoded, null, new CallOptions());
            var acknowledged = Task.Run(async () =>
            {
                var acks = 0;
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) acks++;
                if (acks != batches[a].Length) throw new InvalidOperationException($"{acks} of {batches[a].Length} batches acknowledged");
            });
            foreach (var batch in batches[a]) await call.RequestStream.WriteAsync(batch);
            await call.RequestStream.CompleteAsync();
            await acknowledged;
        }));

    /// <summary>The same rows, one transaction per batch, one connection per agent.</summary>
    static Task CopyAsync(NpgsqlDataSource db, SampleBatch[][] batches) =>
        Task.WhenAll(batches.Select(async (agentBatches, a) =>
        {
            await using var connection = await db.OpenConnectionAsync();
            foreach (var batch in agentBatches)
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await using (var copy = await connection.BeginBinaryImportAsync("COPY telemetry.samples (series_id, time, value) FROM STDIN (FORMAT BINARY)"))
                {
                    for (var i = 0; i < batch.Samples.Count; i++)
                    {
                        var sample = batch.Samples[i];
                        await copy.StartRowAsync();
                        await copy.WriteAsync((long)(a * SeriesPerAgent + i % SeriesPerAgent + 1), NpgsqlDbType.Bigint);
                        await copy.WriteAsync(DateTimeOffset.FromUnixTimeMilliseconds(sample.TimestampMs), NpgsqlDbType.TimestampTz);
                        await copy.WriteAsync(sample.Value, NpgsqlDbType.Double);
                    }
                    await copy.CompleteAsync();
                }
                await transaction.CommitAsync();
            }
        }));

    static async Task TruncateAsync(NpgsqlDataSource db)
    {
        await using var truncate = db.CreateCommand("TRUNCATE telemetry.samples; CHECKPOINT");
        await truncate.ExecuteNonQueryAsync();
    }
}
