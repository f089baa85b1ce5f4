using System.Globalization;

namespace Platform.NodeAgent.Machine;

/// <summary>Cumulative CPU time of the whole machine, in clock ticks, from the first line of <c>/proc/stat</c>.</summary>
public readonly record struct CpuTimes(ulong Total, ulong Idle)
{
    public static CpuTimes Parse(string procStat)
    {
        var line = procStat.AsSpan(0, procStat.IndexOf('\n') is var end and >= 0 ? end : procStat.Length).ToString();
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || fields[0] != "cpu")
            throw new FormatException("/proc/stat does not start with the aggregate cpu line");
        // user nice system idle iowait irq softirq steal; guest time is already counted in user and nice.
        var values = fields.Skip(1).Take(8).Select(f => ulong.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var idle = values[3] + (values.Length > 4 ? values[4] : 0);
        return new(values.Aggregate(0UL, (a, b) => a + b), idle);
    }

    /// <summary>Busy share of the interval since <paramref name="earlier"/>, in percent; null when no time passed.</summary>
    public double? UsagePercentSince(CpuTimes earlier)
    {
        var total = Total - earlier.Total;
        if (total == 0 || Total < earlier.Total) return null;
        var idle = Idle - earlier.Idle;
        return Math.Clamp(100.0 * (total - idle) / total, 0, 100);
    }
}

/// <summary>Memory totals from <c>/proc/meminfo</c>, in bytes.</summary>
public readonly record struct MemoryInfo(long TotalBytes, long AvailableBytes)
{
    public static MemoryInfo Parse(string procMeminfo)
    {
        long total = -1, available = -1;
        foreach (var line in procMeminfo.Split('\n'))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal)) total = KiloBytes(line);
            else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)) available = KiloBytes(line);
        }
        if (total < 0 || available < 0)
            throw new FormatException("/proc/meminfo lacks MemTotal or MemAvailable");
        return new(total, available);
    }

    static long KiloBytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

/// <summary>The 1, 5 and 15 minute load averages from <c>/proc/loadavg</c>.</summary>
public readonly record struct LoadAverage(double One, double Five, double Fifteen)
{
    public static LoadAverage Parse(string procLoadavg)
    {
        var fields = procLoadavg.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3) throw new FormatException("/proc/loadavg has fewer than three fields");
        return new(Number(fields[0]), Number(fields[1]), Number(fields[2]));
    }

    static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}

/// <summary>Cumulative bytes read and written by one block device, from <c>/proc/diskstats</c>.</summary>
public readonly record struct DiskCounters(string Device, ulong ReadBytes, ulong WrittenBytes)
{
    const ulong SectorBytes = 512; // diskstats counts 512-byte sectors whatever the device's own sector size
    static readonly string[] VirtualPrefixes = ["loop", "ram", "zram", "sr", "fd"];

    public static IReadOnlyList<DiskCounters> Parse(string procDiskstats) =>
    [
        .. procDiskstats.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 10 && !VirtualPrefixes.Any(p => f[2].StartsWith(p, StringComparison.Ordinal)))
            .Select(f => new DiskCounters(f[2],
                ulong.Parse(f[5], CultureInfo.InvariantCulture) * SectorBytes,
                ulong.Parse(f[9], CultureInfo.InvariantCulture) * SectorBytes)),
    ];
}

/// <summary>Cumulative bytes received and sent by one network interface, from <c>/proc/net/dev</c>.</summary>
public readonly record struct NetworkCounters(string Interface, ulong ReceiveBytes, ulong TransmitBytes)
{
    public static IReadOnlyList<NetworkCounters> Parse(string procNetDev) =>
    [
        .. procNetDev.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains(':'))
            .Select(line =>
            {
                var colon = line.IndexOf(':');
                var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return new NetworkCounters(line[..colon].Trim(),
                    ulong.Parse(fields[0], CultureInfo.InvariantCulture),
                    ulong.Parse(fields[8], CultureInfo.InvariantCulture));
            })
            .Where(c => c.Interface != "lo"),
    ];
}

/// <summary>One process from <c>/proc/&lt;pid&gt;/stat</c>: identity, state, session and CPU and memory use.</summary>
public sealed record ProcessStat(
    int Pid, string Command, char State, int ParentPid, int Session, long UserTicks, long SystemTicks, long StartTicks, long RssPages)
{
    /// <summary>Clock ticks per second of the times in <c>/proc</c> (USER_HZ, 100 on Linux).</summary>
    public const double TicksPerSecond = 100;

    /// <summary>Parses the stat line; the command may hold spaces and parentheses, so it ends at the last ')'.</summary>
    public static ProcessStat? Parse(string stat)
    {
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= stat.Length) return null;
        var fields = stat[(close + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 22) return null;
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture); // numbered as in proc(5)
        return new(int.Parse(stat[..open].Trim(), CultureInfo.InvariantCulture), stat[(open + 1)..close], fields[0][0],
            (int)Field(4), (int)Field(6), Field(14), Field(15), Field(22), Field(24));
    }

    /// <summary>The process's stat, or null when it no longer exists.</summary>
    public static ProcessStat? Read(int pid, string procRoot = "/proc")
    {
        try
        {
            return Parse(File.ReadAllText($"{procRoot}/{pid}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every process's stat (processes that vanish while being read are skipped).</summary>
    public static IEnumerable<ProcessStat> All(string procRoot = "/proc") =>
        Directory.EnumerateDirectories(procRoot)
            .Select(Path.GetFileName)
            .Where(name => name is { Length: > 0 } && name.All(char.IsAsciiDigit))
            .Select(name => Read(int.Parse(name!, CultureInfo.InvariantCulture), procRoot))
            .OfType<ProcessStat>();
}
