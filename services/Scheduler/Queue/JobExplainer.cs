using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Scheduler.Dispatch;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.Scheduler.V1;

namespace Platform.Scheduler.Queue;

/// <summary>
/// Why a pending job waits: the dependencies not yet completed, every constraint each node fails, and an estimated
/// start — now when some node has room, else when enough of the jobs on the best node are expected to have finished
/// (their start plus their estimated runtime), or none when no node could ever take the job as asked. The estimate
/// ignores jobs ahead in the queue, so it is the earliest possible start.
/// </summary>
public sealed class JobExplainer(ClusterReader cluster, JobStore jobs, DependencyGate dependencies, IOptions<PlacementOptions> options, TimeProvider clock)
{
    public async Task ExplainAsync(JobRow job, Job message, CancellationToken cancellationToken)
    {
        if (job.Status != JobStates.Pending) return;
        var now = clock.GetUtcNow();
        message.WaitingFor.AddRange(await dependencies.WaitingForAsync(job, cancellationToken));
        IReadOnlyList<ClusterNode> nodes;
        try
        {
            nodes = await cluster.NodesAsync(cancellationToken);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            message.EstimateBasis = $"the nodes could not be read from Compute: {ex.Status.Detail}";
            return;
        }
        var placed = await jobs.InStatesAsync(JobStates.Placed, cancellationToken);
        var fitsNow = new List<ClusterNode>();
        DateTimeOffset? earliest = null;
        string basis = "";
        foreach (var node in nodes)
        {
            var onNode = placed.Where(p => p.NodeId == node.NodeId).ToList();
            var problems = JobFit.Problems(job, node, onNode);
            if (problems.Count == 0)
            {
                fitsNow.Add(node);
                continue;
            }
            var blocker = new NodeBlocker { NodeId = node.NodeId.ToString(), NodeName = node.Name };
            blocker.Blockers.AddRange(problems.Select(p => new Blocker { Constraint = p.Constraint, Message = p.Message }));
            message.Blockers.Add(blocker);
            if (problems.All(p => p.Constraint is "cpu" or "memory" or "gpu" && !p.Permanent) && FreesUpAt(job, node, onNode, now) is { } at && (earliest is null || at < earliest))
            {
                earliest = at;
                basis = $"when enough of the jobs on {node.Name} have finished, by their estimated runtimes";
            }
        }
        if (message.WaitingFor.Count > 0)
            message.EstimateBasis = "waits for the jobs it depends on; a start is estimated once they have completed";
        else if (fitsNow.Count > 0)
        {
            message.EstimatedStartMs = (now + options.Value.Interval).ToUnixTimeMilliseconds();
            message.EstimateBasis = $"fits on {string.Join(", ", fitsNow.Select(n => n.Name))} now: placed at the next solve";
        }
        else if (earliest is { } start)
        {
            message.EstimatedStartMs = start.ToUnixTimeMilliseconds();
            message.EstimateBasis = basis;
        }
        else
            message.EstimateBasis = nodes.Count == 0 ? "no node is registered" : "no node can ever take it as asked: see the blockers";
    }

    /// <summary>When the node's jobs, ending in order of their expected end, have freed enough for <paramref name="job"/>.</summary>
    static DateTimeOffset? FreesUpAt(JobRow job, ClusterNode node, IEnumerable<JobRow> onNode, DateTimeOffset now)
    {
        var (cpu, memory, gpus) = (node.FreeCpuMillis, node.FreeMemoryMib, node.FreeGpus);
        foreach (var running in onNode.Select(r => (Job: r, EndsIn: ((r.StartedAt ?? now) - now).TotalSeconds + r.EstimatedRuntimeS / node.Speed)).OrderBy(r => r.EndsIn))
        {
            (cpu, memory, gpus) = (cpu + running.Job.CpuMillis, memory + running.Job.MemoryMib, gpus + running.Job.GpuCount);
            if (cpu >= job.CpuMillis && memory >= job.MemoryMib && gpus >= job.GpuCount)
                return running.EndsIn <= 0 ? now : now.AddSeconds(Math.Min(running.EndsIn, TimeSpan.FromDays(3650).TotalSeconds));
        }
        return null;
    }
}
