using System.Diagnostics;

namespace Platform.Benchmarks;

/// <summary>CPU time used by this process and by every PostgreSQL process, read from /proc, between two points.</summary>
public sealed class CpuMeter
{
    static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    readonly TimeSpan selfStart = Process.GetCurrentProcess().TotalProcessorTime;
    readonly double postgresStart = PostgresSeconds();

    public (double Self, double Postgres) Elapsed() =>
        ((Process.GetCurrentProcess().TotalProcessorTime - selfStart).TotalSeconds, PostgresSeconds() - postgresStart);

    static double PostgresSeconds()
    {
        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (!int.TryParse(Path.GetFileName(dir), out _) || File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "postgres") continue;
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // utime, stime, and cutime, cstime: the postmaster accrues the time of backends that have exited
                ticks += double.Parse(fields[11]) + double.Parse(fields[12]) + double.Parse(fields[13]) + double.Parse(fields[14]);
            }
            catch (IOException) { }
        }
        return ticks / TicksPerSecond;
    }
}
