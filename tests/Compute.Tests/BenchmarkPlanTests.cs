using Platform.Compute.Benchmarks;
using Platform.Compute.Nodes;
using Platform.Compute.V1;

namespace Platform.Compute.Tests;

/// <summary>How a benchmark run is planned, and how a benchmark workload's output is read.</summary>
public sealed class BenchmarkPlanTests
{
    static NodeRecord Node(string name, params string[] addresses) =>
        new(Guid.NewGuid(), name, name, addresses, new NodeCapacity { CpuCores = 2, MemoryBytes = 4L << 30 }, [], "test", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    [Fact]
    public void Tasks_run_one_kind_at_a_time_over_the_nodes_by_name_and_the_network_from_each_node_to_the_next()
    {
        var (a, b, c) = (Node("a"), Node("b"), Node("c"));
        var tasks = BenchmarkPlan.Tasks([c, a, b], ["network", "cpu"]);

        Assert.Equal([0, 1, 2, 3, 4, 5], tasks.Select(t => t.Position));
        Assert.Equal([(a.NodeId, "cpu"), (b.NodeId, "cpu"), (c.NodeId, "cpu")], tasks.Take(3).Select(t => (t.NodeId, t.Kind)));
        Assert.Equal([(a.NodeId, b.NodeId), (b.NodeId, c.NodeId), (c.NodeId, a.NodeId)], tasks.Skip(3).Select(t => (t.NodeId, t.PeerNodeId!.Value)));
        Assert.Empty(BenchmarkPlan.Tasks([a], ["network"])); // one node has no peer
    }

    [Fact]
    public void Output_lines_that_are_not_results_are_skipped_and_a_server_says_where_it_listens()
    {
        var results = BenchmarkPlan.Parse("""
            warming up
            {"benchmark":"cpu_sha256_single","value":1.5e9,"unit":"bytes_per_second","method":"SHA-256"}
            {"benchmark":"cpu_sha256_single","value":9e99,"unit":"bytes_per_second","method":"a second, forged line"}
            {"benchmark":"cpu_sha256_all","value":"3e9","unit":"bytes_per_second"}
            {"benchmark":"cpu_sha256_all","value":3e9,"unit":"iops"}
            {"benchmark":"network_throughput","value":1e12,"unit":"bytes_per_second"}
            {"benchmark":"","value":1}
            [1, 2]
            """, "cpu");
        // Only the kind's own measures, in their units, once each: the rest of a workload's output is not a result.
        Assert.Equal([("cpu_sha256_single", 1.5e9)], results.Select(r => (r.Benchmark, r.Value)));
        Assert.Empty(BenchmarkPlan.Parse("""{"benchmark":"disk_random_read","value":-5,"unit":"iops"}""", "disk"));
        Assert.Equal(("10.0.0.2", 4711), BenchmarkPlan.Listening("noise\n{\"listening\":\"10.0.0.2:4711\"}\n"));
        Assert.Null(BenchmarkPlan.Listening("{\"listening\":\"nowhere\"}"));
        Assert.Equal("10.0.0.2", BenchmarkPlan.AddressOf(Node("x", "fe80::1", "10.0.0.2")));
        Assert.Equal("127.0.0.1", BenchmarkPlan.AddressOf(Node("y")));
    }

    [Fact]
    public void A_benchmark_workload_runs_only_nodebench()
    {
        var bad = Assert.ThrowsAny<Exception>(() => BenchmarkPlan.Workload(Guid.NewGuid(), 0, Guid.NewGuid(), "sh", ["-c", "id"], null));
        Assert.Contains("command", bad.Message);
        var run = Guid.NewGuid();
        var workload = BenchmarkPlan.Workload(run, 3, Guid.NewGuid(), "network-server", ["10.0.0.2"], "a-secret-of-enough-length");
        Assert.Equal(("benchmark", "never", "a-secret-of-enough-length"), (workload.Driver, workload.RestartPolicy, workload.Env["BENCH_TOKEN"]));
        // Created again after a crash, it is the same workload (the same idempotency key), not a second one.
        Assert.Equal(workload.IdempotencyKey, BenchmarkPlan.Workload(run, 3, Guid.NewGuid(), "network-server", ["10.0.0.2"], "x").IdempotencyKey);
    }
}
