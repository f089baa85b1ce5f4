extern alias scheduler;
using System.Diagnostics;
using System.Globalization;
using scheduler::Platform.Scheduler.Optimization;

namespace Platform.Benchmarks;

/// <summary>
/// NSGA-II on ZDT1, ZDT2, ZDT3 and DTLZ2 (population 100 × 250 generations, jMetal's settings) over seeds 1..31, one
/// run at a time: writes each final front as <c>OUT/&lt;problem&gt;/seed-&lt;k&gt;.csv</c> and prints, per problem, the median
/// time of a run, the median hypervolume (against the best that 100 points can reach where it is known) and the median
/// IGD against the true front. bench/nsga2.sh runs DEAP beside it.
/// </summary>
static class Nsga2Benchmark
{
    static readonly Dictionary<string, double> BestReachable = new() { ["ZDT1"] = 0.872143, ["ZDT2"] = 0.538881 };

    public static int Run(string outDirectory, int seeds = 31)
    {
        foreach (var problem in TestProblem.All())
        {
            var folder = Path.Combine(outDirectory, problem.Name);
            Directory.CreateDirectory(folder);
            double[] reference = problem.ObjectiveCount == 2 ? [1.1, 1.1] : [1.1, 1.1, 1.1];
            var trueFront = problem.TrueFront(problem.ObjectiveCount == 2 ? 1000 : 500);
            var times = new List<double>();
            var hypervolumes = new List<double>();
            var distances = new List<double>();
            // One unmeasured run first, so the JIT's work is not counted in the first seed.
            new Nsga2<double[]>(problem, problem.JMetalVariation(), new Nsga2Options { Seed = 0 }).Run();
            for (var seed = 1; seed <= seeds; seed++)
            {
                var clock = Stopwatch.StartNew();
                var front = new Nsga2<double[]>(problem, problem.JMetalVariation(), new Nsga2Options { Seed = seed }).Run().Front.Select(i => i.Objectives).ToList();
                times.Add(clock.Elapsed.TotalMilliseconds);
                File.WriteAllLines(Path.Combine(folder, $"seed-{seed}.csv"), front.Select(p => string.Join(',', p.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
                hypervolumes.Add(Indicators.Hypervolume(front, reference));
                distances.Add(Indicators.InvertedGenerationalDistance(front, trueFront));
            }
            var hypervolume = Median(hypervolumes);
            var reachable = BestReachable.TryGetValue(problem.Name, out var best) ? $" = {hypervolume / best:F4} x the best reachable {best}" : "";
            Console.WriteLine(FormattableString.Invariant(
                $"nsga2 {problem.Name}: {seeds} seeds, median run {Median(times):F1} ms, median hypervolume {hypervolume:F6}{reachable}, median IGD {Median(distances):F5}"));
        }
        return 0;
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
