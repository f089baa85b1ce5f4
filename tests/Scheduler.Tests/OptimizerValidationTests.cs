using Platform.Scheduler.Optimization;

namespace Platform.Scheduler.Tests;

/// <summary>
/// NSGA-II on the standard problems against their true fronts, with jMetal's settings (population 100, 250
/// generations, SBX p = 0.9 η = 20, polynomial mutation p = 1/n η = 20) over 31 seeds: the median hypervolume at
/// (1.1, 1.1) reaches 99 % of the best that 100 points can reach, and the IGD is small.
/// </summary>
public sealed class OptimizerValidationTests
{
    static readonly double[] Reference2 = [1.1, 1.1];

    static readonly Dictionary<string, Lazy<List<List<double[]>>>> Runs = TestProblem.All().ToDictionary(p => p.Name, p => new Lazy<List<List<double[]>>>(() => FinalFronts(p)));

    /// <summary>The final fronts of seeds 1..31, computed once per problem for every test that needs them.</summary>
    static List<List<double[]>> FinalFronts(TestProblem problem) =>
        Enumerable.Range(1, 31).AsParallel().AsOrdered().Select(seed =>
            new Nsga2<double[]>(problem, problem.JMetalVariation(), new Nsga2Options { PopulationSize = 100, Generations = 250, Seed = seed })
                .Run().Front.Select(i => i.Objectives).ToList()).ToList();

    static IEnumerable<List<double[]>> FinalFronts(string name) => Runs[name].Value;

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    [Theory]
    [InlineData("ZDT1", 0.872143)]
    [InlineData("ZDT2", 0.538881)]
    public void The_median_hypervolume_over_31_seeds_reaches_99_percent_of_the_best_reachable_with_100_points(string name, double bestReachable)
    {
        var hypervolumes = FinalFronts(name).Select(front => Indicators.Hypervolume(front, Reference2));
        Assert.InRange(Median(hypervolumes), 0.99 * bestReachable, bestReachable + 1e-9);
    }

    [Theory]
    [InlineData("ZDT1", 0.01)]
    [InlineData("ZDT2", 0.01)]
    [InlineData("ZDT3", 0.01)]
    [InlineData("DTLZ2", 0.08)]
    public void The_median_IGD_over_31_seeds_is_close_to_the_true_front(string name, double bound)
    {
        var problem = TestProblem.All().Single(p => p.Name == name);
        var trueFront = problem.TrueFront(problem.ObjectiveCount == 2 ? 1000 : 500);
        var distances = FinalFronts(name).Select(front => Indicators.InvertedGenerationalDistance(front, trueFront));
        Assert.InRange(Median(distances), 0, bound);
    }

    [Fact]
    public void ZDT3s_front_covers_its_disconnected_pieces_and_its_hypervolume_is_near_the_true_fronts()
    {
        var best = Indicators.Hypervolume(TestProblem.Zdt3().TrueFront(10_000), Reference2);
        var hypervolumes = FinalFronts("ZDT3").Select(front => Indicators.Hypervolume(front, Reference2));
        Assert.InRange(Median(hypervolumes), 0.98 * best, best + 1e-9);
    }

    [Fact]
    public void DTLZ2s_median_hypervolume_is_near_the_spheres()
    {
        // The volume between the unit sphere's octant and (1.1, 1.1, 1.1) is 1.331 − π/6; NSGA-II's 100 points reach about 0.87 of it.
        var best = 1.331 - Math.PI / 6;
        var hypervolumes = FinalFronts("DTLZ2").Select(front => Indicators.Hypervolume(front, [1.1, 1.1, 1.1]));
        Assert.InRange(Median(hypervolumes), 0.85 * best, best);
    }

    [Fact]
    public void The_same_seed_gives_the_same_front_and_parallel_evaluation_changes_nothing()
    {
        var problem = TestProblem.Zdt1();
        Nsga2Options Options(bool parallel) => new() { Generations = 30, Seed = 7, ParallelEvaluation = parallel };
        var serial = new Nsga2<double[]>(problem, problem.JMetalVariation(), Options(false)).Run().Front.Select(i => i.Objectives).ToList();
        var parallel = new Nsga2<double[]>(problem, problem.JMetalVariation(), Options(true)).Run().Front.Select(i => i.Objectives).ToList();
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void A_time_budget_ends_the_run_early()
    {
        var problem = TestProblem.Zdt1();
        var result = new Nsga2<double[]>(problem, problem.JMetalVariation(), new Nsga2Options { Generations = int.MaxValue, TimeBudget = TimeSpan.FromMilliseconds(200) }).Run();
        Assert.InRange(result.Generations, 1, int.MaxValue - 1);
        Assert.Equal(100 + 100 * result.Generations, result.Evaluations);
    }
}
