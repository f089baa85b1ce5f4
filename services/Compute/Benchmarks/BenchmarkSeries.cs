using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Grpc.Core;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.V1;

namespace Platform.Compute.Benchmarks;

/// <summary>
/// Benchmark results as Telemetry series, pushed as the agents push theirs (agent <c>compute-benchmarks</c>): one
/// <c>benchmark_&lt;name&gt;_&lt;unit&gt;</c> sample per result at the time it was measured, labelled with the node (and the
/// peer node for the network), so the results chart and alert like any metric. The results are kept in Compute's own
/// tables first; a push that fails is logged and the figures stay there.
/// </summary>
public sealed partial class BenchmarkSeries(MetricIngestion.MetricIngestionClient ingestion, TimeProvider clock, ILogger<BenchmarkSeries> logger)
{
    public const string AgentId = "compute-benchmarks";
    readonly ulong epoch = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue; // Telemetry takes 63-bit epochs
    long lastSequence;

    public static string MetricName(BenchmarkResult result) => Unsafe().Replace($"benchmark_{result.Benchmark}_{result.Unit}", "_");

    public async Task ShipAsync(IReadOnlyList<BenchmarkResult> results, CancellationToken cancellationToken)
    {
        var batch = new SampleBatch { AgentId = AgentId, Sequence = NextSequence(), Epoch = epoch };
        foreach (var result in results)
        {
            var sample = new Sample { Name = MetricName(result), Value = result.Value, TimestampMs = result.MeasuredAtMs };
            sample.Labels["node"] = result.NodeName;
            sample.Labels["node_id"] = result.NodeId;
            if (result.PeerNodeId != "") sample.Labels["peer_node_id"] = result.PeerNodeId;
            batch.Samples.Add(sample);
        }
        try
        {
            using var call = ingestion.PushSamples(deadline: CallDeadlines.FromNow(), cancellationToken: cancellationToken);
            await call.RequestStream.WriteAsync(batch, cancellationToken);
            await call.RequestStream.CompleteAsync();
            await foreach (var ack in call.ResponseStream.ReadAllAsync(cancellationToken))
                if (ack.Sequence == batch.Sequence) return;
            logger.LogWarning("Telemetry did not acknowledge the benchmark results of run {RunId}", results.FirstOrDefault()?.RunId);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException)
        {
            logger.LogWarning("Benchmark results of run {RunId} were not shipped to Telemetry (they are kept in Compute): {Reason}", results.FirstOrDefault()?.RunId, ex.Message);
        }
    }

    /// <summary>Microseconds since the epoch, strictly increasing within this process (Telemetry's batch order).</summary>
    ulong NextSequence()
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        long last, next;
        do
        {
            last = Interlocked.Read(ref lastSequence);
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref lastSequence, next, last) != last);
        return (ulong)next;
    }

    [GeneratedRegex("[^a-zA-Z0-9_]")]
    private static partial Regex Unsafe();
}
