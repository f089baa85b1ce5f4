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
            // Left pending: it waits at least a round of its own length, or until a node it could use is through.
            var job = jobs[j];
            var wait = job.RuntimeSeconds;
            foreach (var n in job.EligibleNodes) wait = Math.Min(wait, Math.Max(finish[n], 1));
            wait = Math.Max(wait, job.RuntimeSeconds);
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

    /// <summary>Whether job <paramref name="j"/> fits on node <paramref name="n"/> beside what the counters already hold there.</summary>
    internal bool Fits(int j, int n, long[] cpu, long[] memory, int[] gpus) =>
        cpu[n] + jobs[j].CpuMillis <= nodes[n].FreeCpuMillis && memory[n] + jobs[j].MemoryMib <= nodes[n].FreeMemoryMib && gpus[n] + jobs[j].Gpus <= nodes[n].FreeGpus;

    internal void Hold(int j, int n, long[] cpu, long[] memory, int[] gpus)
    {
        cpu[n] += jobs[j].CpuMillis;
        memory[n] += jobs[j].MemoryMib;
        gpus[n] += jobs[j].Gpus;
    }
}
