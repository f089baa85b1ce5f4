namespace Platform.Scheduler.Placement;

/// <summary>
/// The classic greedy placements, in the batch's (priority) order: first-fit takes the first eligible node with room,
/// best-fit the one left with the least free CPU, worst-fit the one left with the most. They seed the search and are
/// the baselines a decision is compared with.
/// </summary>
public static class Heuristics
{
    public static int[] FirstFit(PlacementProblem problem) => Greedy(problem, null);

    public static int[] BestFit(PlacementProblem problem) => Greedy(problem, left => left);

    public static int[] WorstFit(PlacementProblem problem) => Greedy(problem, left => -left);

    /// <summary>Each job on the eligible node with room whose CPU left over scores lowest (the first of equals; without a score, the first), or pending.</summary>
    static int[] Greedy(PlacementProblem problem, Func<long, long>? score)
    {
        var nodes = problem.Nodes.Count;
        var cpu = new long[nodes];
        var memory = new long[nodes];
        var gpus = new int[nodes];
        var genome = new int[problem.Jobs.Count];
        for (var j = 0; j < genome.Length; j++)
        {
            genome[j] = -1;
            var best = long.MaxValue;
            foreach (var n in problem.Jobs[j].EligibleNodes)
            {
                if (!problem.Fits(j, n, cpu, memory, gpus, genome)) continue;
                var s = score?.Invoke(problem.Nodes[n].FreeCpuMillis - cpu[n] - problem.Jobs[j].CpuMillis) ?? 0;
                if (s >= best) continue;
                best = s;
                genome[j] = n;
                if (score is null) break;
            }
            if (genome[j] >= 0) problem.Hold(j, genome[j], cpu, memory, gpus);
        }
        return genome;
    }
}
