using Grpc.Core;
using Npgsql;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Scheduler.Queue;

/// <summary>The queue counted (per tier and status, wait times, SLA violations, the last decision) and the nodes as the scheduler sees them.</summary>
public sealed class QueueViews(NpgsqlDataSource db, JobStore jobs, ClusterReader cluster, DecisionStore decisions, TimeProvider clock)
{
    public async Task<SchedulerStats> StatsAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var stats = new SchedulerStats();
        foreach (var row in await db.QueryAsync<CountRow>("SELECT status, sla_tier, count(*)::int AS jobs FROM scheduler.jobs GROUP BY status, sla_tier", null, cancellationToken))
        {
            stats.TotalJobs += row.Jobs;
            stats.ByStatus[row.Status] = stats.ByStatus.GetValueOrDefault(row.Status) + row.Jobs;
            if (row.Status == JobStates.Pending) stats.QueueByTier[row.SlaTier] = stats.QueueByTier.GetValueOrDefault(row.SlaTier) + row.Jobs;
        }
        stats.PendingJobs = stats.ByStatus.GetValueOrDefault(JobStates.Pending);
        stats.QueueLength = stats.PendingJobs;
        stats.RunningJobs = stats.ByStatus.GetValueOrDefault(JobStates.Running);
        stats.ScheduledJobs = stats.ByStatus.GetValueOrDefault(JobStates.Scheduled);
        foreach (var row in await db.QueryAsync<WaitRow>("""
            SELECT sla_tier, count(*)::int AS jobs,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - submitted_at)) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - submitted_at)) AS p95
            FROM scheduler.jobs WHERE started_at > @since GROUP BY sla_tier
            """, new { since = now.AddDays(-1) }, cancellationToken))
            stats.WaitByTier[row.SlaTier] = new WaitTimes { Jobs = row.Jobs, P50Seconds = Math.Round(row.P50, 3), P95Seconds = Math.Round(row.P95, 3) };
        stats.SlaViolations = await db.QuerySingleOrDefaultAsync<int>("""
            SELECT count(*)::int FROM scheduler.jobs WHERE deadline IS NOT NULL AND status <> 'cancelled' AND coalesce(finished_at, @now) > deadline
            """, new { now }, cancellationToken);
        if (await decisions.LatestAsync(cancellationToken) is { } last)
        {
            last.Front.Clear();
            last.Placements.Clear();
            stats.LastDecision = last;
        }
        return stats;
    }

    /// <summary>Every node; the jobs on each are listed only as far as <paramref name="visible"/> lets the caller see them.</summary>
    public async Task<ListNodesResponse> NodesAsync(Func<JobRow, bool> visible, CancellationToken cancellationToken)
    {
        var nodes = await cluster.NodesAsync(cancellationToken);
        var placed = await jobs.InStatesAsync(JobStates.Placed, cancellationToken);
        var response = new ListNodesResponse();
        foreach (var node in nodes)
        {
            var view = new SchedulerNode
            {
                NodeId = node.NodeId.ToString(), Name = node.Name, Status = node.Status, Schedulable = node.Schedulable && !node.Draining,
                CpuCores = node.CpuMillis / 1000.0, MemoryMib = node.MemoryMib, GpuCount = node.Gpus, FreeCpuCores = node.FreeCpuMillis / 1000.0,
                FreeMemoryMib = node.FreeMemoryMib, FreeGpuCount = node.FreeGpus, Speed = Math.Round(node.Speed, 4), SpeedBasis = node.SpeedBasis,
                PricePerCoreHour = node.PricePerCoreHour, WattsPerCore = node.WattsPerCore,
            };
            view.JobIds.AddRange(placed.Where(j => j.NodeId == node.NodeId && visible(j)).Select(j => j.JobId.ToString()));
            view.Drivers.AddRange(node.Drivers.Order());
            view.Labels.Add(node.Labels.ToDictionary());
            response.Nodes.Add(view);
        }
        return response;
    }

    /// <summary>The CPU of the Ready nodes (the size factor's measure), or null when Compute does not answer.</summary>
    public async Task<int?> ClusterCpuMillisAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ClusterNode.ReadyCpuMillis(await cluster.NodesAsync(cancellationToken));
        }
        catch (RpcException)
        {
            return null;
        }
    }

    sealed record CountRow
    {
        public string Status { get; init; } = "";
        public string SlaTier { get; init; } = "";
        public int Jobs { get; init; }
    }

    sealed record WaitRow
    {
        public string SlaTier { get; init; } = "";
        public int Jobs { get; init; }
        public double P50 { get; init; }
        public double P95 { get; init; }
    }
}
