using Platform.Scheduler.Jobs;

namespace Platform.Scheduler.Placement;

/// <summary>
/// One solve's input: the pending jobs that some node could take (highest priority first), the nodes, and the problem
/// built from them. A node's free resources are Compute's (capacity less what its workloads hold) less the jobs
/// scheduled on it whose workload Compute has not created yet.
/// </summary>
public sealed record PlacementBatch(IReadOnlyList<JobRow> Jobs, IReadOnlyList<ClusterNode> Nodes, PlacementProblem Problem)
{
    public static PlacementBatch Build(IEnumerable<JobRow> pendingByPriority, IReadOnlyList<ClusterNode> clusterNodes, IReadOnlyList<JobRow> placed,
        PlacementOptions options, DateTimeOffset now)
    {
        var nodes = clusterNodes.Select(n => Committed(n, placed.Where(j => j.NodeId == n.NodeId && j.WorkloadId is null))).ToList();
        var onNode = nodes.ToDictionary(n => n.NodeId, n => (IReadOnlyCollection<JobRow>)placed.Where(j => j.NodeId == n.NodeId).ToList());
        var jobs = new List<JobRow>();
        var eligible = new List<int[]>();
        foreach (var job in pendingByPriority)
        {
            if (jobs.Count == options.MaxBatch) break;
            // Free capacity is the solver's to share out; every other constraint decides where the job may go at all.
            var where = Enumerable.Range(0, nodes.Count)
                .Where(n => JobFit.Problems(job, nodes[n], onNode[nodes[n].NodeId]).All(p => !p.Permanent && p.Constraint is "cpu" or "memory" or "gpu")).ToArray();
            if (where.Length == 0) continue;
            jobs.Add(job);
            eligible.Add(where);
        }
        var placementNodes = nodes.Select(n => new PlacementNode(
            Math.Max(0, n.FreeCpuMillis), Math.Max(0, n.FreeMemoryMib), Math.Max(0, n.FreeGpus), n.CpuMillis, n.CpuMillis - n.FreeCpuMillis, n.Speed,
            n.PricePerCoreHour, n.WattsPerCore, BusyFor(onNode[n.NodeId], n.Speed, now))).ToList();
        var placementJobs = jobs.Select((job, j) => new PlacementJob(
            job.CpuMillis, job.MemoryMib, job.GpuCount, job.EstimatedRuntimeS, options.TierWeights.GetValueOrDefault(job.SlaTier, 1),
            job.Deadline is { } deadline ? (deadline - now).TotalSeconds : double.PositiveInfinity, eligible[j])
        {
            AntiAffinityWith = [.. Enumerable.Range(0, jobs.Count).Where(k => k != j && Clash(job, jobs[k]))],
        }).ToList();
        return new PlacementBatch(jobs, nodes, new PlacementProblem(placementJobs, placementNodes));
    }

    static ClusterNode Committed(ClusterNode node, IEnumerable<JobRow> undispatched)
    {
        var held = undispatched.ToList();
        return node with
        {
            FreeCpuMillis = node.FreeCpuMillis - held.Sum(j => j.CpuMillis), FreeMemoryMib = node.FreeMemoryMib - held.Sum(j => j.MemoryMib),
            FreeGpus = node.FreeGpus - held.Sum(j => j.GpuCount),
        };
    }

    /// <summary>How long the node's current jobs are expected to run on: the latest of their estimated ends.</summary>
    static double BusyFor(IEnumerable<JobRow> jobs, double speed, DateTimeOffset now) =>
        jobs.Select(j => ((j.StartedAt ?? now) - now).TotalSeconds + j.EstimatedRuntimeS / speed).DefaultIfEmpty(0).Max() is var busy && busy > 0 ? busy : 0;

    static bool Clash(JobRow a, JobRow b) =>
        a.AntiAffinity.Count > 0 && JobFit.Matches(b, a.AntiAffinity) || b.AntiAffinity.Count > 0 && JobFit.Matches(a, b.AntiAffinity);
}
