using Platform.Scheduler.Optimization;

namespace Platform.Scheduler.Tests;

/// <summary>The engine's parts: pymoo's crowding-distance cases, constrained domination, the sort, the operators.</summary>
public sealed class OptimizerPartsTests
{
    static void AssertDistances(double[] expected, double[] actual) =>
        Assert.Equal(expected, actual, (e, a) => double.IsPositiveInfinity(e) ? double.IsPositiveInfinity(a) : Math.Abs(e - a) < 1e-9);

    [Fact]
    public void Crowding_distance_with_one_duplicate_gives_the_copy_zero_and_the_extremes_infinity()
    {
        double[][] front = [[1.0, 1.0], [1.0, 1.0], [0.5, 1.5], [0.0, 2.0]];
        AssertDistances([double.PositiveInfinity, 0.0, 1.0, double.PositiveInfinity], CrowdingDistance.Of(front));
    }

    [Fact]
    public void Crowding_distance_with_two_duplicates_gives_both_copies_zero()
    {
        double[][] front = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.5, 1.5], [0.0, 2.0]];
        AssertDistances([double.PositiveInfinity, 0.0, 0.0, 1.0, double.PositiveInfinity], CrowdingDistance.Of(front));
    }

    [Fact]
    public void Crowding_distance_ignores_an_objective_on_which_every_point_agrees()
    {
        double[][] front = [[1.0, 1.5, 0.5, 1.0], [1.0, 0.5, 1.5, 1.0], [1.0, 0.0, 2.0, 1.5]];
        AssertDistances([double.PositiveInfinity, 0.75, double.PositiveInfinity], CrowdingDistance.Of(front));
    }

    [Fact]
    public void Two_or_fewer_points_are_all_boundaries()
    {
        AssertDistances([double.PositiveInfinity, double.PositiveInfinity], CrowdingDistance.Of([[0.0, 1.0], [1.0, 0.0]]));
        Assert.Empty(CrowdingDistance.Of([]));
    }

    [Fact]
    public void Of_two_infeasible_solutions_the_smaller_violation_dominates_whatever_the_objectives()
    {
        double[] good = [0.0, 0.0], bad = [5.0, 5.0];
        Assert.True(Dominance.Dominates(bad, 1.0, good, 2.0));
        Assert.False(Dominance.Dominates(good, 2.0, bad, 1.0));
        // Equal violations: neither dominates, whatever the objectives.
        Assert.False(Dominance.Dominates(good, 1.0, bad, 1.0));
        Assert.False(Dominance.Dominates(bad, 1.0, good, 1.0));
        // Feasible beats infeasible; two feasible compare by Pareto.
        Assert.True(Dominance.Dominates(bad, 0, good, 0.5));
        Assert.True(Dominance.Dominates(good, 0, bad, 0));
        Assert.False(Dominance.Dominates([0.0, 1.0], 0, [1.0, 0.0], 0));
    }

    [Fact]
    public void The_fast_non_dominated_sort_puts_feasible_fronts_first_then_infeasible_by_violation()
    {
        double[][] points = [[1, 4], [2, 2], [4, 1], [3, 3], [5, 5], [0, 0], [0, 0]];
        double[] violations = [0, 0, 0, 0, 0, 2, 1];
        var fronts = Dominance.Sort(points, violations);
        Assert.Equal([[0, 1, 2], [3], [4], [6], [5]], fronts.Select(f => f.Order().ToArray()).ToArray());
    }

    [Fact]
    public void SBX_and_polynomial_mutation_stay_within_the_bounds()
    {
        var variation = new RealVariation([-1, 0], [1, 10]) { MutationProbability = 1 };
        var random = new Random(3);
        for (var i = 0; i < 2000; i++)
        {
            var (a, b) = variation.Crossover(variation.Create(random), variation.Create(random), random);
            variation.Mutate(a, random);
            Assert.All(new[] { a, b }, g => Assert.True(g[0] is >= -1 and <= 1 && g[1] is >= 0 and <= 10));
        }
    }

    [Fact]
    public void Assignment_genes_keep_to_their_choices_and_permutations_stay_permutations()
    {
        var random = new Random(5);
        int[][] choices = [[3, 7], [1], [0, 2, 4]];
        var assignment = new AssignmentVariation(choices) { MutationProbability = 1 };
        var permutation = new PermutationVariation(9) { MutationProbability = 0.5 };
        for (var i = 0; i < 500; i++)
        {
            var (a, b) = assignment.Crossover(assignment.Create(random), assignment.Create(random), random);
            assignment.Mutate(a, random);
            Assert.All(new[] { a, b }, g => Assert.All(Enumerable.Range(0, 3), k => Assert.Contains(g[k], choices[k])));
            var (p, q) = permutation.Crossover(permutation.Create(random), permutation.Create(random), random);
            permutation.Mutate(p, random);
            Assert.Equal(Enumerable.Range(0, 9), p.Order());
            Assert.Equal(Enumerable.Range(0, 9), q.Order());
        }
    }

    [Fact]
    public void Hypervolume_is_exact_for_small_fronts_in_two_and_three_objectives()
    {
        Assert.Equal(0.5 * 0.5 + 0.5 * 1.0 - 0.5 * 0.5 * 0.0, Indicators.Hypervolume([[0.5, 0.5]], [1.0, 1.0]) + 0.5, 9);
        Assert.Equal(0.75, Indicators.Hypervolume([[0.0, 0.5], [0.5, 0.0], [0.6, 0.6]], [1.0, 1.0]), 9);
        Assert.Equal(1.0 - 0.125, Indicators.Hypervolume([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5]], [1.0, 1.0, 1.0]) + 0.125 * 0, 1);
        Assert.Equal(0.5 * 0.5 * 0.5, Indicators.Hypervolume([[0.5, 0.5, 0.5], [1.5, 0.0, 0.0]], [1.0, 1.0, 1.0]), 9);
    }
}
