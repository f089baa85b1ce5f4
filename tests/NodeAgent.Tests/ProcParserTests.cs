using Platform.NodeAgent.Machine;

namespace Platform.NodeAgent.Tests;

/// <summary>The /proc formats, as the Linux kernel writes them (proc(5)).</summary>
public sealed class ProcParserTests
{
    [Fact]
    public void Cpu_usage_is_the_busy_share_between_two_reads_counting_iowait_as_idle()
    {
        var first = CpuTimes.Parse("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n");
        var second = CpuTimes.Parse("cpu  250 0 150 1200 200 0 0 0 0 0\n");

        // total grew by 800, idle (idle + iowait) by 600: 25 % busy.
        Assert.Equal(25.0, second.UsagePercentSince(first));
        Assert.Null(first.UsagePercentSince(first));
    }

    [Fact]
    public void Memory_comes_from_MemTotal_and_MemAvailable_in_bytes()
    {
        var memory = MemoryInfo.Parse("MemTotal:       24684084 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n");

        Assert.Equal(24684084L * 1024, memory.TotalBytes);
        Assert.Equal(20000000L * 1024, memory.AvailableBytes);
        Assert.Throws<FormatException>(() => MemoryInfo.Parse("MemFree: 1 kB\n"));
    }

    [Fact]
    public void Load_average_reads_the_first_three_fields() =>
        Assert.Equal(new LoadAverage(0.52, 1.25, 2.5), LoadAverage.Parse("0.52 1.25 2.50 3/456 7890\n"));

    [Fact]
    public void Disk_counters_are_sectors_times_512_and_skip_loop_and_ram_devices()
    {
        var disks = DiskCounters.Parse("""
               7       0 loop0 10 0 20 0 0 0 0 0 0 0 0 0 0 0 0 0 0
             254       0 vda 8000 10 160000 900 5000 20 80000 700 0 1000 1600 0 0 0 0 0 0
             254       1 vda1 7000 10 150000 800 4000 20 70000 600 0 900 1400 0 0 0 0 0 0
            """);

        Assert.Equal(["vda", "vda1"], disks.Select(d => d.Device));
        Assert.Equal(160000UL * 512, disks[0].ReadBytes);
        Assert.Equal(80000UL * 512, disks[0].WrittenBytes);
    }

    [Fact]
    public void Network_counters_take_received_and_sent_bytes_and_skip_loopback()
    {
        var interfaces = NetworkCounters.Parse("""
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
              eth0: 1234567    1000    0    0    0     0          0         0   7654321     900    0    0    0     0       0          0
            """);

        var eth0 = Assert.Single(interfaces);
        Assert.Equal(new NetworkCounters("eth0", 1234567, 7654321), eth0);
    }
}
