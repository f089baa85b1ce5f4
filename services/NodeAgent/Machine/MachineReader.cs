using System.Net.NetworkInformation;
using System.Net.Sockets;
using Platform.Compute.V1;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Machine;

/// <summary>
/// Reads this machine: its capacity for registration, and a set of samples each interval. CPU usage is the busy share
/// since the previous read, so the first read reports no CPU sample rather than an invented one.
/// </summary>
public sealed class MachineReader(string procRoot = "/proc")
{
    CpuTimes? previousCpu;

    public NodeCapacity ReadCapacity() => new()
    {
        CpuCores = Environment.ProcessorCount,
        MemoryBytes = MemoryInfo.Parse(Read("meminfo")).TotalBytes,
        DiskBytes = new DriveInfo("/").TotalSize,
        GpuCount = Directory.Exists("/dev") ? Directory.GetFiles("/dev", "nvidia*").Count(f => char.IsDigit(f[^1])) : 0,
    };

    public static IEnumerable<string> ReadAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Where(a => a.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !a.Address.IsIPv6LinkLocal)
            .Select(a => a.Address.ToString());

    public IReadOnlyList<Sample> ReadSamples(string node, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeMilliseconds();
        var samples = new List<Sample>();
        void Add(string name, double value, params (string Key, string Value)[] labels)
        {
            var sample = new Sample { Name = name, Value = value, TimestampMs = timestamp };
            sample.Labels["node"] = node;
            foreach (var (key, labelValue) in labels) sample.Labels[key] = labelValue;
            samples.Add(sample);
        }

        var cpu = CpuTimes.Parse(Read("stat"));
        if (previousCpu is { } earlier && cpu.UsagePercentSince(earlier) is { } usage)
            Add("node_cpu_usage_percent", usage);
        previousCpu = cpu;

        var memory = MemoryInfo.Parse(Read("meminfo"));
        Add("node_memory_total_bytes", memory.TotalBytes);
        Add("node_memory_available_bytes", memory.AvailableBytes);
        Add("node_memory_used_percent", 100.0 * (memory.TotalBytes - memory.AvailableBytes) / memory.TotalBytes);

        var load = LoadAverage.Parse(Read("loadavg"));
        Add("node_load1", load.One);
        Add("node_load5", load.Five);
        Add("node_load15", load.Fifteen);

        foreach (var disk in DiskCounters.Parse(Read("diskstats")))
        {
            Add("node_disk_read_bytes_total", disk.ReadBytes, ("device", disk.Device));
            Add("node_disk_written_bytes_total", disk.WrittenBytes, ("device", disk.Device));
        }

        foreach (var network in NetworkCounters.Parse(Read("net/dev")))
        {
            Add("node_network_receive_bytes_total", network.ReceiveBytes, ("interface", network.Interface));
            Add("node_network_transmit_bytes_total", network.TransmitBytes, ("interface", network.Interface));
        }
        return samples;
    }

    string Read(string file) => File.ReadAllText(Path.Combine(procRoot, file));
}
