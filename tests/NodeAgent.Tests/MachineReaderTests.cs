using Platform.NodeAgent.Machine;

namespace Platform.NodeAgent.Tests;

public sealed class MachineReaderTests : IDisposable
{
    readonly string proc = Directory.CreateTempSubdirectory("proc-").FullName;

    public MachineReaderTests()
    {
        Directory.CreateDirectory(Path.Combine(proc, "net"));
        File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal: 1000 kB\nMemAvailable: 250 kB\n");
        File.WriteAllText(Path.Combine(proc, "loadavg"), "1.00 2.00 3.00 1/1 1\n");
        File.WriteAllText(Path.Combine(proc, "diskstats"), "254 0 vda 1 0 2 0 3 0 4 0 0 0 0\n");
        File.WriteAllText(Path.Combine(proc, "net/dev"), "h\nh\n eth0: 10 0 0 0 0 0 0 0 20 0 0 0 0 0 0 0\n");
        File.WriteAllText(Path.Combine(proc, "stat"), "cpu  100 0 0 100 0 0 0 0\n");
    }

    [Fact]
    public void The_first_read_has_no_cpu_sample_and_the_second_reports_the_busy_share()
    {
        var reader = new MachineReader(proc);
        var now = DateTimeOffset.UtcNow;

        var first = reader.ReadSamples("node-0", now);
        File.WriteAllText(Path.Combine(proc, "stat"), "cpu  150 0 0 150 0 0 0 0\n");
        var second = reader.ReadSamples("node-0", now.AddSeconds(5));

        Assert.DoesNotContain(first, s => s.Name == "node_cpu_usage_percent");
        Assert.Equal(50.0, second.Single(s => s.Name == "node_cpu_usage_percent").Value);
        Assert.Equal(75.0, second.Single(s => s.Name == "node_memory_used_percent").Value);
        Assert.Equal(1000.0 * 1024, second.Single(s => s.Name == "node_memory_total_bytes").Value);
        Assert.Equal(1024.0, second.Single(s => s.Name == "node_disk_read_bytes_total").Value);
        Assert.Equal("eth0", second.Single(s => s.Name == "node_network_transmit_bytes_total").Labels["interface"]);
        Assert.All(second, s => Assert.Equal("node-0", s.Labels["node"]));
        Assert.All(second, s => Assert.Equal(now.AddSeconds(5).ToUnixTimeMilliseconds(), s.TimestampMs));
    }

    [Fact]
    public void Capacity_reads_this_machine()
    {
        var capacity = new MachineReader().ReadCapacity();

        Assert.Equal(Environment.ProcessorCount, capacity.CpuCores);
        Assert.True(capacity.MemoryBytes > 0);
        Assert.True(capacity.DiskBytes > 0);
    }

    public void Dispose() => Directory.Delete(proc, recursive: true);
}
