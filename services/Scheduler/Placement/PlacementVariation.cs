using Platform.Scheduler.Optimization;

namespace Platform.Scheduler.Placement;

/// <summary>
/// The assignment operators (uniform crossover, random reset among a job's eligible nodes or "pending") followed by a
/// repair: in priority order (the batch's order), a job that does not fit its node (capacity, or an anti-affine job
/// already there) — or has none — tries a few random eligible nodes and otherwise waits; so nearly every child is
/// feasible, and the search spends its time on the trade-offs instead of on infeasible solutions.
/// </summary>
public sealed class PlacementVariation(PlacementProblem problem) : IVariation<int[]>
{
    const int Tries = 4;
    readonly AssignmentVariation assignment = new([.. problem.Jobs.Select(j => j.EligibleNodes.Append(-1).ToArray())]);

    public int[] Create(Random random)
    {
        var genome = assignment.Create(random);
        Repair(genome, random);
        return genome;
    }

    public (int[] First, int[] Second) Crossover(int[] first, int[] second, Random random) => assignment.Crossover(first, second, random);

    public void Mutate(int[] genome, Random random)
    {
        assignment.Mutate(genome, random);
        Repair(genome, random);
    }

    void Repair(int[] genome, Random random)
    {
        var nodes = problem.Nodes.Count;
        var cpu = new long[nodes];
        var memory = new long[nodes];
        var gpus = new int[nodes];
        for (var j = 0; j < genome.Length; j++)
        {
            var eligible = problem.Jobs[j].EligibleNodes;
            if (genome[j] >= 0 && !problem.Fits(j, genome[j], cpu, memory, gpus, genome)) genome[j] = -1;
            for (var t = 0; genome[j] < 0 && t < Tries && eligible.Length > 0; t++)
            {
                var n = eligible[random.Next(eligible.Length)];
                if (problem.Fits(j, n, cpu, memory, gpus, genome)) genome[j] = n;
            }
            if (genome[j] >= 0) problem.Hold(j, genome[j], cpu, memory, gpus);
        }
    }
}
