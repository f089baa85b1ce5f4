using Platform.NodeAgent.Drivers;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.Metrics;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// Each running workload's CPU, memory, I/O and process count as samples with <c>workload_id</c> and <c>workload</c>
/// labels, shipped to Telemetry with the machine's own.
/// </summary>
public sealed class WorkloadUsageSamples(LocalWorkloads workloads) : ISampleSource
{
    public IEnumerable<Sample> Read(string node, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeMilliseconds();
        var running = workloads.All.Where(w => w.Handle is not null).ToList();
        if (running.Count == 0) yield break;
        var processes = ProcessStat.All().ToList(); // one pass over /proc for every workload
        foreach (var workload in running)
        {
            if (workload.Handle is not { } handle || workloads.Driver(workload.Driver) is not { } driver) continue;
            var usage = driver.Stats(handle, processes);
            Sample Make(string name, double value)
            {
                var sample = new Sample { Name = name, Value = value, TimestampMs = timestamp };
                sample.Labels["node"] = node;
                sample.Labels["workload_id"] = workload.WorkloadId;
                sample.Labels["workload"] = workload.Name;
                return sample;
            }
            yield return Make("workload_cpu_seconds_total", usage.CpuSeconds);
            yield return Make("workload_memory_rss_bytes", usage.RssBytes);
            yield return Make("workload_io_read_bytes_total", usage.ReadBytes);
            yield return Make("workload_io_write_bytes_total", usage.WriteBytes);
            yield return Make("workload_processes", usage.Processes);
        }
    }
}
