using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.Metrics;
using Platform.NodeAgent.Registration;
using Platform.NodeAgent.V1;
using Platform.NodeAgent.Workloads;

namespace Platform.NodeAgent.Inspection;

/// <summary>
/// The node's health, checked for real each time it is asked: free disk and memory, load per core, the lease with
/// Compute, the metric backlog, the drivers, and whether each supervised workload is where it was asked to be.
/// </summary>
public sealed class NodeHealthChecks(
    NodeIdentity identity, RegistrationState registration, PendingBatches pending, LocalWorkloads workloads,
    IEnumerable<IWorkloadDriver> drivers, IOptions<NodeAgentOptions> options, TimeProvider clock)
{
    public HealthCheckReport Run()
    {
        var report = new HealthCheckReport { NodeId = identity.NodeId.ToString(), NodeName = identity.Name };
        report.Checks.Add(Measure("disk", () =>
        {
            var drive = new DriveInfo(identity.StateDirectory);
            var free = 100.0 * drive.AvailableFreeSpace / drive.TotalSize;
            return (free < 5 ? "fail" : free < 15 ? "warn" : "pass", $"{free:F1}% free on {drive.RootDirectory.FullName} ({drive.AvailableFreeSpace / (1L << 30)} GiB)");
        }));
        report.Checks.Add(Measure("memory", () =>
        {
            var memory = MemoryInfo.Parse(File.ReadAllText("/proc/meminfo"));
            var available = 100.0 * memory.AvailableBytes / memory.TotalBytes;
            return (available < 5 ? "fail" : available < 15 ? "warn" : "pass", $"{available:F1}% available ({memory.AvailableBytes / (1L << 20)} MiB)");
        }));
        report.Checks.Add(Measure("load", () =>
        {
            var perCore = LoadAverage.Parse(File.ReadAllText("/proc/loadavg")).Five / Environment.ProcessorCount;
            return (perCore > 4 ? "fail" : perCore > 1.5 ? "warn" : "pass", $"5-minute load {perCore:F2} per core");
        }));
        report.Checks.Add(Measure("compute_lease", () =>
        {
            if (registration.LastRenewal is not { } renewed) return ("fail", "not registered with Compute");
            var age = clock.GetUtcNow() - renewed;
            return (age > options.Value.HeartbeatInterval * 3 ? "fail" : "pass", $"lease renewed {age.TotalSeconds:F1} s ago");
        }));
        report.Checks.Add(Measure("metrics_backlog", () =>
        {
            var batches = pending.Count;
            return (batches > 1000 ? "fail" : batches > 10 ? "warn" : "pass", $"{batches} metric batches waiting for Telemetry, {pending.Dropped} dropped (list full), {pending.Refused} refused by Telemetry");
        }));
        foreach (var driver in drivers)
            report.Checks.Add(Measure($"driver_{driver.Name}", () =>
            {
                var fingerprint = driver.Fingerprint();
                return (fingerprint.Available ? "pass" : "warn", fingerprint.Available ? $"available ({string.Join(", ", fingerprint.Attributes.Select(a => $"{a.Key}: {a.Value}"))})" : fingerprint.Reason);
            }));
        report.Checks.Add(Measure("workloads", () =>
        {
            var astray = workloads.All.Where(w => w.Assignment is { } a && !Matches(a.DesiredState, w.Power) && !w.Restarting).Select(w => w.Name).ToList();
            return (astray.Count == 0 ? "pass" : "warn",
                astray.Count == 0 ? $"{workloads.All.Count} workloads where they were asked to be" : $"not in their desired state: {string.Join(", ", astray)}");
        }));
        report.Status = report.Checks.Any(c => c.Status == "fail") ? "fail" : report.Checks.Any(c => c.Status == "warn") ? "warn" : "pass";
        return report;
    }

    static bool Matches(string desired, string power) => (desired, power) switch
    {
        (DesiredStates.Running, PowerStates.Running) or (DesiredStates.Paused, PowerStates.Paused) => true,
        (DesiredStates.Stopped, PowerStates.Shutdown or PowerStates.Crashed or PowerStates.NoState) => true,
        _ => false,
    };

    static HealthCheck Measure(string name, Func<(string Status, string Detail)> check)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var (status, detail) = check();
            return new HealthCheck { Name = name, Status = status, Detail = detail, DurationMs = Math.Round(clock.Elapsed.TotalMilliseconds, 2) };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return new HealthCheck { Name = name, Status = "fail", Detail = ex.Message, DurationMs = Math.Round(clock.Elapsed.TotalMilliseconds, 2) };
        }
    }
}
