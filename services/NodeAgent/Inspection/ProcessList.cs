using System.Globalization;
using System.Text;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.V1;

namespace Platform.NodeAgent.Inspection;

/// <summary>The machine's processes from <c>/proc</c>, with CPU use measured over a short sample.</summary>
public sealed class ProcessList(string procRoot = "/proc")
{
    public static readonly TimeSpan Sample = TimeSpan.FromMilliseconds(200);

    /// <summary>The top processes by CPU or memory; workload processes are named by their session's workload.</summary>
    public async Task<ListProcessesResponse> TopAsync(string sortBy, int limit, IReadOnlyDictionary<int, string> workloadSessions, CancellationToken cancellationToken)
    {
        var before = ProcessStat.All(procRoot).ToDictionary(p => p.Pid);
        await Task.Delay(Sample, cancellationToken);
        var after = ProcessStat.All(procRoot).ToList();
        var bootTime = BootTime();

        var measured = after.Select(p =>
        {
            var ticks = p.UserTicks + p.SystemTicks - (before.TryGetValue(p.Pid, out var b) && b.StartTicks == p.StartTicks ? b.UserTicks + b.SystemTicks : p.UserTicks + p.SystemTicks);
            return (Stat: p, Cpu: ticks / ProcessStat.TicksPerSecond / Sample.TotalSeconds * 100);
        });
        var ordered = sortBy == "memory" ? measured.OrderByDescending(m => m.Stat.RssPages) : measured.OrderByDescending(m => m.Cpu).ThenByDescending(m => m.Stat.RssPages);
        var response = new ListProcessesResponse { Total = after.Count };
        foreach (var (stat, cpu) in ordered.Take(limit))
            response.Processes.Add(new ProcessInfo
            {
                Pid = stat.Pid, ParentPid = stat.ParentPid, Command = stat.Command, CommandLine = CommandLine(stat.Pid), State = stat.State.ToString(),
                Uid = Uid(stat.Pid), CpuPercent = Math.Round(cpu, 1), RssBytes = stat.RssPages * Environment.SystemPageSize,
                StartedAtMs = bootTime is { } boot ? boot.AddSeconds(stat.StartTicks / ProcessStat.TicksPerSecond).ToUnixTimeMilliseconds() : 0,
                WorkloadId = workloadSessions.GetValueOrDefault(stat.Session, ""),
            });
        return response;
    }

    string CommandLine(int pid)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes($"{procRoot}/{pid}/cmdline")).TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    int Uid(int pid)
    {
        try
        {
            var line = File.ReadLines($"{procRoot}/{pid}/status").FirstOrDefault(l => l.StartsWith("Uid:"));
            return line is null ? -1 : int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>When the machine booted, from the btime line of <c>/proc/stat</c>.</summary>
    DateTimeOffset? BootTime()
    {
        var line = File.ReadLines($"{procRoot}/stat").FirstOrDefault(l => l.StartsWith("btime "));
        return line is null ? null : DateTimeOffset.FromUnixTimeSeconds(long.Parse(line[6..], CultureInfo.InvariantCulture));
    }
}
