extern alias scheduler;
using System.Diagnostics;
using System.Globalization;
using scheduler::Platform.Scheduler.Placement;

namespace Platform.Benchmarks;

/// <summary>
/// The Scheduler's solve on 1,000 pending jobs × 100 simulated nodes (a seeded mix of sizes, speeds, prices, labels
/// and deadlines; more demand than room), with the service's own settings (1 s budget, population 100), five seeds:
/// the solve's time, and the chosen solution against first-fit and best-fit placements of the same batch on every
/// objective — whether it dominates them, and by how much it is better (+) or worse (−) on each.
/// </summary>
static class PlacementBenchmark
{
    static readonly double[] DefaultWeights = [0.2, 0.15, 0.1, 0.4, 0.15];

    public static int Run(int jobs = 1000, int nodes = 100)
    {
        var problem = Generate(jobs, nodes, new Random(2026));
        var options = new PlacementOptions();
        Console.WriteLine(FormattableString.Invariant($"placement: {jobs} jobs x {nodes} nodes, budget {options.TimeBudget.TotalMilliseconds:0} ms, population {options.Population}, at most {options.Generations} generations"));
        PlacementSolver.Solve(problem, DefaultWeights, options, seed: 0); // the JIT's work, unmeasured
        var times = new List<double>();
        for (var seed = 1; seed <= 5; seed++)
        {
            var clock = Stopwatch.StartNew();
            var result = PlacementSolver.Solve(problem, DefaultWeights, options, seed);
            times.Add(clock.Elapsed.TotalMilliseconds);
            Console.WriteLine(FormattableString.Invariant(
                $"placement seed {seed}: solve {clock.Elapsed.TotalMilliseconds:0} ms, {result.Generations} generations, front {result.Front.Count}, places {PlacementSolver.Placed(result.Chosen)} of {jobs}"));
            foreach (var (name, objectives, placed) in result.Baselines)
                Console.WriteLine($"placement seed {seed}: vs {name} (places {placed}): {Compare(result.ChosenObjectives, objectives)}; " +
                    $"{result.Front.Count(p => Dominates(p.Objectives, objectives))} of the front's {result.Front.Count} points dominate {name}");
        }
        Console.WriteLine(FormattableString.Invariant($"placement: median solve {times.Order().ElementAt(times.Count / 2):0} ms (budget {options.TimeBudget.TotalMilliseconds:0} ms)"));
        return 0;
    }

    static bool Dominates(double[] a, double[] b) => a.Zip(b).All(p => p.First <= p.Second) && a.Zip(b).Any(p => p.First < p.Second);

    static string Compare(double[] chosen, double[] baseline)
    {
        var parts = PlacementProblem.ObjectiveNames.Select((name, k) => string.Create(CultureInfo.InvariantCulture,
            $"{name} {chosen[k]:0.###} vs {baseline[k]:0.###} ({(baseline[k] == 0 ? (chosen[k] == 0 ? "equal" : "worse") : $"{(baseline[k] - chosen[k]) / baseline[k] * 100:+0.0;-0.0}%")})"));
        return $"{(Dominates(chosen, baseline) ? "dominates" : "does not dominate")}; {string.Join(", ", parts)}";
    }

    /// <summary>A cluster and a queue: nodes of 4–64 cores, 0.5–2× speed, their own price and power, some busy; jobs of every tier, some with deadlines, some tied to a zone.</summary>
    public static PlacementProblem Generate(int jobCount, int nodeCount, Random random)
    {
        var zones = new int[nodeCount];
        var nodes = new List<PlacementNode>();
        for (var n = 0; n < nodeCount; n++)
        {
            var cores = new[] { 4, 8, 16, 32, 64 }[random.Next(5)];
            var reserved = random.Next(0, cores / 2 + 1) * 1000;
            var memory = cores * 4096L;
            zones[n] = random.Next(4);
            nodes.Add(new PlacementNode(cores * 1000 - reserved, memory - reserved * 4L, 0, cores * 1000, reserved, 0.5 + random.NextDouble() * 1.5,
                0.5 + random.NextDouble() * 2.5, 5 + random.NextDouble() * 15, reserved > 0 ? random.Next(30, 900) : 0));
        }
        var tiers = new[] { 10.0, 3.0, 1.0 };
        var jobs = new List<PlacementJob>();
        for (var j = 0; j < jobCount; j++)
        {
            var zone = random.Next(5); // 4: any zone
            var eligible = Enumerable.Range(0, nodeCount).Where(n => zone == 4 || zones[n] == zone).ToArray();
            var cpu = new[] { 250, 500, 1000, 2000, 4000, 8000 }[random.Next(6)];
            var runtime = random.Next(10, 3600);
            jobs.Add(new PlacementJob(cpu, cpu * 2L, 0, runtime, tiers[random.Next(3)], random.Next(3) == 0 ? runtime * (1 + random.NextDouble() * 2) : double.PositiveInfinity, eligible));
        }
        return new PlacementProblem(jobs, nodes);
    }
}
