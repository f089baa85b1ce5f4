using System.Globalization;
using Platform.Scheduler.Optimization;

namespace Platform.Scheduler.Placement;

/// <summary>A solve's outcome: the chosen assignment, the front it was chosen from, the greedy baselines, and the cost of the search.</summary>
public sealed record PlacementResult(
    int[] Chosen, double[] ChosenObjectives, IReadOnlyList<(double[] Objectives, int Placed)> Front, IReadOnlyList<(string Name, double[] Objectives, int Placed)> Baselines,
    TimeSpan Elapsed, int Generations, int Evaluations, string Why);

/// <summary>
/// Solves a placement problem with NSGA-II, seeded with the greedy placements, and chooses one solution from the
/// feasible front: the lowest weighted sum of the objectives, each normalised to 0..1 over the front (more placed
/// jobs break a tie).
/// </summary>
public static class PlacementSolver
{
    public static PlacementResult Solve(PlacementProblem problem, double[] weights, PlacementOptions options, int seed, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var firstFit = Heuristics.FirstFit(problem);
        var bestFit = Heuristics.BestFit(problem);
        var engine = new Nsga2<int[]>(problem, new PlacementVariation(problem), new Nsga2Options
        {
            // The whole solve stays within the budget: the greedy seeds' time is spent already, and choosing takes a moment.
            PopulationSize = options.Population, Generations = options.Generations, TimeBudget = options.TimeBudget * 0.97 - clock.Elapsed, Seed = seed,
            ParallelEvaluation = problem.Jobs.Count * options.Population >= 20_000,
        });
        var result = engine.Run([firstFit, bestFit, Heuristics.WorstFit(problem)], cancellationToken);
        var feasible = result.Front.Where(i => i.Feasible).GroupBy(i => string.Join(',', i.Genome)).Select(g => g.First()).ToList();
        if (feasible.Count == 0) feasible = [.. result.Front];
        var (best, score) = Choose(feasible, weights);
        // Never dispatch a broken constraint: should the whole front be infeasible, the jobs that break one wait.
        var chosenGenome = problem.Feasible(best.Genome);
        var chosen = chosenGenome.SequenceEqual(best.Genome) ? best : Evaluated(problem, chosenGenome);
        var front = feasible.Select(i => (i.Objectives, Placed(i.Genome))).ToList();
        var baselines = new List<(string, double[], int)>
        {
            ("first-fit", problem.Evaluate(firstFit).Objectives, Placed(firstFit)),
            ("best-fit", problem.Evaluate(bestFit).Objectives, Placed(bestFit)),
        };
        var why = string.Create(CultureInfo.InvariantCulture,
            $"the lowest weighted sum ({score:0.####}) of the objectives normalised over the {feasible.Count} feasible solutions of the front, weights " +
            $"{string.Join(", ", PlacementProblem.ObjectiveNames.Zip(weights, (n, w) => $"{n} {w:0.###}"))}; it places {Placed(chosen.Genome)} of {problem.Jobs.Count} jobs");
        return new PlacementResult(chosen.Genome, chosen.Objectives, front, baselines, clock.Elapsed, result.Generations, result.Evaluations, why);
    }

    static Individual<int[]> Evaluated(PlacementProblem problem, int[] genome)
    {
        var individual = new Individual<int[]>(genome);
        var evaluation = problem.Evaluate(genome);
        individual.Objectives = evaluation.Objectives;
        return individual;
    }

    static (Individual<int[]> Chosen, double Score) Choose(List<Individual<int[]>> front, double[] weights)
    {
        var objectives = front[0].Objectives.Length;
        var low = Enumerable.Range(0, objectives).Select(k => front.Min(i => i.Objectives[k])).ToArray();
        var high = Enumerable.Range(0, objectives).Select(k => front.Max(i => i.Objectives[k])).ToArray();
        var total = Math.Max(weights.Sum(), 1e-12);
        double Score(Individual<int[]> individual) => Enumerable.Range(0, objectives)
            .Sum(k => weights[k] * (high[k] > low[k] ? (individual.Objectives[k] - low[k]) / (high[k] - low[k]) : 0)) / total;
        var chosen = front.OrderBy(Score).ThenByDescending(i => Placed(i.Genome)).First();
        return (chosen, Score(chosen));
    }

    public static int Placed(int[] genome) => genome.Count(n => n >= 0);
}
