using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;

namespace Platform.Scheduler.Placement;

/// <summary>
/// Reads the cluster from Compute over gRPC: every node with its capacity, what its workloads hold, labels and drivers,
/// and each node's speed from its newest single-core CPU benchmark relative to the cluster's median.
/// </summary>
public sealed class ClusterReader(Compute.V1.Compute.ComputeClient compute, Compute.V1.Benchmarks.BenchmarksClient benchmarks, IOptions<PlacementOptions> options)
{
    const string SpeedBenchmark = "cpu_sha256_single";
    const double MinSpeed = 0.01, MaxSpeed = 100;

    public async Task<IReadOnlyList<ClusterNode>> NodesAsync(CancellationToken cancellationToken)
    {
        var nodes = (await compute.ListNodesAsync(new ListNodesRequest(), cancellationToken: cancellationToken)).Nodes;
        var speeds = await SpeedsAsync(cancellationToken);
        return nodes.Select(n => ToClusterNode(n, speeds)).ToList();
    }

    ClusterNode ToClusterNode(Node node, Speeds speeds)
    {
        var capacity = node.Capacity ?? new NodeCapacity();
        var reserved = node.Reserved ?? new NodeResources();
        // An agent states its own capacity: figures beyond any machine are held to what an int of thousandths can carry.
        var cpuMillis = (int)Math.Min(int.MaxValue / 2, (long)capacity.CpuCores * 1000);
        var (speed, basis) = speeds.For(node.NodeId);
        return new ClusterNode
        {
            NodeId = Guid.Parse(node.NodeId), Name = node.Name, Status = node.Status, Schedulable = node.Schedulable, Draining = node.Draining,
            Admission = node.Admission, CpuMillis = cpuMillis, MemoryMib = capacity.MemoryBytes >> 20, Gpus = capacity.GpuCount,
            FreeCpuMillis = cpuMillis - reserved.CpuMillis, FreeMemoryMib = (capacity.MemoryBytes - reserved.MemoryBytes) >> 20,
            FreeGpus = capacity.GpuCount - reserved.GpuCount, Labels = node.Labels.ToDictionary(),
            Drivers = node.Drivers.Where(d => d.Available).Select(d => d.Name).ToHashSet(), Speed = speed, SpeedBasis = basis,
            PricePerCoreHour = Label(node, "price-per-core-hour") ?? options.Value.DefaultPricePerCoreHour,
            WattsPerCore = Label(node, "watts-per-core") ?? options.Value.DefaultWattsPerCore,
        };
    }

    static double? Label(Node node, string name) =>
        node.Labels.TryGetValue(name, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
        && double.IsFinite(value) && value >= 0 ? value : null;

    async Task<Speeds> SpeedsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var data = await benchmarks.GetBenchmarkDataAsync(new GetBenchmarkDataRequest { Benchmark = SpeedBenchmark, Limit = 1 }, cancellationToken: cancellationToken);
            return new Speeds(data.Latest.Where(r => r.Benchmark == SpeedBenchmark && r.Value > 0).GroupBy(r => r.NodeId)
                .ToDictionary(g => g.Key, g => g.MaxBy(r => r.MeasuredAtMs)!), null);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new Speeds([], $"benchmarks could not be read: {ex.Status.Detail}");
        }
    }

    sealed record Speeds(Dictionary<string, BenchmarkResult> Latest, string? Error)
    {
        readonly double median = Latest.Count == 0 ? 0 : Latest.Values.Select(r => r.Value).Order().ElementAt(Latest.Count / 2);

        public (double Speed, string Basis) For(string nodeId)
        {
            if (Error is not null) return (1, Error);
            if (!Latest.TryGetValue(nodeId, out var result)) return (1, "not measured: run a CPU benchmark (POST /api/benchmarks/start)");
            var measured = DateTimeOffset.FromUnixTimeMilliseconds(result.MeasuredAtMs).ToString("u", CultureInfo.InvariantCulture);
            // A node's own program reports its figure: a speed beyond 100× either way of the median is held there.
            return (Math.Clamp(result.Value / median, MinSpeed, MaxSpeed), $"{SpeedBenchmark} {result.Value / 1e6:0.#} MB/s measured {measured}, against the cluster's median {median / 1e6:0.#} MB/s");
        }
    }
}
