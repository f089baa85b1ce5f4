using Platform.Scheduler.Optimization;

namespace Platform.Scheduler.Placement;

/// <summary>A pending job as the solver sees it. <see cref="EligibleNodes"/>: the nodes that pass every fixed constraint.</summary>
public sealed record PlacementJob(int CpuMillis, long MemoryMib, int Gpus, double RuntimeSeconds, double TierWeight, double DeadlineSeconds, int[] EligibleNodes)
{
    /// <summary>Jobs of the batch it may not share a node with (anti-affinity), by index.</summary>
    public int[] AntiAffinityWith { get; init; } = [];
}

/// <summary>A node as the solver sees it: what is free now, what is held, its speed, price and power, how long its current work lasts.</summary>
public sealed record PlacementNode(int FreeCpuMillis, long FreeMemoryMib, int FreeGpus, int CpuMillis, int ReservedCpuMillis, double Speed,
    double PricePerCoreHour, double WattsPerCore, double BusyForSeconds);

/// <summary>
/// Assigning a batch of pending jobs to nodes: gene j is job j's node index, or −1 to leave it pending this round.
/// Objectives, all minimised: makespan (s), cost (price × core-hours), energy (Wh), SLA-weighted lateness (tier weight ×
/// (the delay of a job left pending + the time past its deadline)) and load imbalance (the standard deviation of the
/// nodes' CPU commitment). Constraints: each node's free CPU, memory and GPUs, and anti-affinity within the batch;
/// the violation is the overflow as a share of the node's capacity, plus one per anti-affinity clash.
/// </summary>
public sealed class PlacementProblem(IReadOnlyList<PlacementJob> jobs, IReadOnlyList<PlacementNode> nodes) : IProblem<int[]>
{
    public static readonly string[] ObjectiveNames = ["makespan_s", "cost", "energy_wh", "sla_lateness", "imbalance"];

    public IReadOnlyList<PlacementJob> Jobs => jobs;
    public IReadOnlyList<PlacementNode> Nodes => nodes;
    public int ObjectiveCount => ObjectiveNames.Length;

    public Evaluation Evaluate(int[] genome)
    {
        var cpu = new long[nodes.Count];
        var memory = new long[nodes.Count];
        var gpus = new int[nodes.Count];
        var finish = new double[nodes.Count];
        for (var n = 0; n < nodes.Count; n++) finish[n] = nodes[n].BusyForSeconds;
        double cost = 0, energy = 0, lateness = 0, violation = 0;
        for (var j = 0; j < jobs.Count; j++)
        {
            var n = genome[j];
            if (n < 0) continue;
            var job = jobs[j];
            var node = nodes[n];
            cpu[n] += job.CpuMillis;
            memory[n] += job.MemoryMib;
            gpus[n] += job.Gpus;
            var runtime = job.RuntimeSeconds / node.Speed;
            finish[n] = Math.Max(finish[n], runtime);
            var coreHours = job.CpuMillis / 1000.0 * runtime / 3600;
            cost += node.PricePerCoreHour * coreHours;
            energy += node.WattsPerCore * coreHours;
            lateness += job.TierWeight * Math.Max(0, runtime - job.DeadlineSeconds);
            foreach (var other in job.AntiAffinityWith)
                if (other > j && genome[other] == n) violation += 1;
        }
        for (var j = 0; j < jobs.Count; j++)
        {
            if (genome[j] >= 0) continue;
            // Left waiting: until the first node it could use is through with its work, and at least a round of its own
            // length (so an idle node never makes waiting look free).
            var job = jobs[j];
            var soonest = double.PositiveInfinity;
            foreach (var n in job.EligibleNodes) soonest = Math.Min(soonest, finish[n]);
            var wait = double.IsPositiveInfinity(soonest) ? job.RuntimeSeconds : Math.Max(soonest, job.RuntimeSeconds);
            lateness += job.TierWeight * (wait + Math.Max(0, wait + job.RuntimeSeconds - job.DeadlineSeconds));
        }
        double makespan = 0, sum = 0, squares = 0;
        for (var n = 0; n < nodes.Count; n++)
        {
            var node = nodes[n];
            makespan = Math.Max(makespan, finish[n]);
            violation += Math.Max(0, cpu[n] - node.FreeCpuMillis) / (double)Math.Max(1, node.CpuMillis)
                + Math.Max(0, memory[n] - node.FreeMemoryMib) / (double)Math.Max(1, node.FreeMemoryMib + memory[n])
                + Math.Max(0, gpus[n] - node.FreeGpus);
            var load = (node.ReservedCpuMillis + cpu[n]) / (double)Math.Max(1, node.CpuMillis);
            sum += load;
            squares += load * load;
        }
        var mean = nodes.Count == 0 ? 0 : sum / nodes.Count;
        var imbalance = nodes.Count == 0 ? 0 : Math.Sqrt(Math.Max(0, squares / nodes.Count - mean * mean));
        return new Evaluation([makespan, cost, energy, lateness, imbalance], violation);
    }

    /// <summary>
    /// Whether job <paramref name="j"/> fits on node <paramref name="n"/> beside what the counters already hold there,
    /// and no job before it in <paramref name="genome"/> that it may not share a node with is there.
    /// </summary>
    internal bool Fits(int j, int n, long[] cpu, long[] memory, int[] gpus, int[] genome)
    {
        if (cpu[n] + jobs[j].CpuMillis > nodes[n].FreeCpuMillis || memory[n] + jobs[j].MemoryMib > nodes[n].FreeMemoryMib || gpus[n] + jobs[j].Gpus > nodes[n].FreeGpus)
            return false;
        foreach (var other in jobs[j].AntiAffinityWith)
            if (other < j && genome[other] == n) return false;
        return true;
    }

    /// <summary>
    /// The assignment with every job that breaks a constraint left waiting, in the batch's (priority) order: what is
    /// dispatched is always feasible, whatever the front held.
    /// </summary>
    public int[] Feasible(int[] genome)
    {
        var kept = (int[])genome.Clone();
        var cpu = new long[nodes.Count];
        var memory = new long[nodes.Count];
        var gpus = new int[nodes.Count];
        for (var j = 0; j < kept.Length; j++)
        {
            if (kept[j] < 0) continue;
            if (Fits(j, kept[j], cpu, memory, gpus, kept)) Hold(j, kept[j], cpu, memory, gpus);
            else kept[j] = -1;
        }
        return kept;
    }

    internal void Hold(int j, int n, long[] cpu, long[] memory, int[] gpus)
    {
        cpu[n] += jobs[j].CpuMillis;
        memory[n] += jobs[j].MemoryMib;
        gpus[n] += jobs[j].Gpus;
    }
}
