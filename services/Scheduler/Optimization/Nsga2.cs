using System.Diagnostics;

namespace Platform.Scheduler.Optimization;

/// <summary>How long NSGA-II searches and how: population, generations or a time budget (whichever ends first), the seed.</summary>
public sealed record Nsga2Options
{
    public int PopulationSize { get; init; } = 100;
    public int Generations { get; init; } = 250;
    /// <summary>Stop before a generation that would end past this much time (judged by the average so far); null: run every generation.</summary>
    public TimeSpan? TimeBudget { get; init; }
    public int Seed { get; init; }
    /// <summary>Evaluate each generation's offspring on every core: worth it when an evaluation costs more than scheduling it.</summary>
    public bool ParallelEvaluation { get; init; }
}

/// <summary>The final population, its first front (the non-dominated solutions), and what the run cost.</summary>
public sealed record Nsga2Result<TGenome>(
    IReadOnlyList<Individual<TGenome>> Population, IReadOnlyList<Individual<TGenome>> Front, int Generations, int Evaluations, TimeSpan Elapsed);

/// <summary>
/// NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) over any representation: binary tournament on rank and crowding,
/// the representation's crossover and mutation, and elitist survival of the best half of parents and offspring by fast
/// non-dominated sort (Deb's constrained domination) and crowding distance. Randomness comes from one seeded
/// <see cref="Random"/>, so a run is repeatable; parallel evaluation does not change the result.
/// </summary>
public sealed class Nsga2<TGenome>(IProblem<TGenome> problem, IVariation<TGenome> variation, Nsga2Options options)
{
    public Nsga2Result<TGenome> Run(IEnumerable<TGenome>? initial = null, CancellationToken cancellationToken = default)
    {
        if (options.PopulationSize < 2) throw new ArgumentOutOfRangeException(nameof(options), "the population needs at least two individuals");
        var clock = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        var size = options.PopulationSize;
        var population = (initial ?? []).Take(size).Select(g => new Individual<TGenome>(g)).ToList();
        while (population.Count < size) population.Add(new Individual<TGenome>(variation.Create(random)));
        Evaluate(population);
        var evaluations = population.Count;
        population = Survive(population, size);
        var generation = 0;
        while (generation < options.Generations && !cancellationToken.IsCancellationRequested && !OverBudget(clock.Elapsed, generation))
        {
            var offspring = new List<Individual<TGenome>>(size + 1);
            while (offspring.Count < size)
            {
                var (first, second) = variation.Crossover(Tournament(population, random).Genome, Tournament(population, random).Genome, random);
                variation.Mutate(first, random);
                variation.Mutate(second, random);
                offspring.Add(new Individual<TGenome>(first));
                if (offspring.Count < size) offspring.Add(new Individual<TGenome>(second));
            }
            Evaluate(offspring);
            evaluations += offspring.Count;
            population.AddRange(offspring);
            population = Survive(population, size);
            generation++;
        }
        var front = population.Where(i => i.Rank == 0).ToList();
        return new Nsga2Result<TGenome>(population, front, generation, evaluations, clock.Elapsed);
    }

    /// <summary>Whether another generation, as long as the average one so far, would end past the time budget.</summary>
    bool OverBudget(TimeSpan elapsed, int generations) =>
        options.TimeBudget is { } budget && elapsed + (generations == 0 ? TimeSpan.Zero : elapsed / (generations + 1)) >= budget;

    void Evaluate(List<Individual<TGenome>> individuals)
    {
        void One(Individual<TGenome> individual)
        {
            var evaluation = problem.Evaluate(individual.Genome);
            individual.Objectives = evaluation.Objectives;
            individual.Violation = Math.Max(0, evaluation.Violation);
        }
        if (options.ParallelEvaluation) Parallel.ForEach(individuals, One);
        else individuals.ForEach(One);
    }

    /// <summary>The crowded-comparison tournament: the lower rank wins, then the larger crowding distance, then a coin.</summary>
    static Individual<TGenome> Tournament(List<Individual<TGenome>> population, Random random)
    {
        var a = population[random.Next(population.Count)];
        var b = population[random.Next(population.Count)];
        if (a.Rank != b.Rank) return a.Rank < b.Rank ? a : b;
        if (a.Crowding != b.Crowding) return a.Crowding > b.Crowding ? a : b;
        return random.Next(2) == 0 ? a : b;
    }

    /// <summary>Ranks and crowds <paramref name="candidates"/> and keeps the best <paramref name="size"/>: whole fronts, then the least crowded of the next.</summary>
    static List<Individual<TGenome>> Survive(List<Individual<TGenome>> candidates, int size)
    {
        var fronts = Dominance.Sort(candidates.Select(i => i.Objectives).ToList(), candidates.Select(i => i.Violation).ToList());
        var survivors = new List<Individual<TGenome>>(size * 2);
        for (var rank = 0; rank < fronts.Count && survivors.Count < size; rank++)
        {
            var front = fronts[rank].Select(i => candidates[i]).ToList();
            var crowding = CrowdingDistance.Of(front.Select(i => i.Objectives).ToList());
            for (var i = 0; i < front.Count; i++)
            {
                front[i].Rank = rank;
                front[i].Crowding = crowding[i];
            }
            if (survivors.Count + front.Count > size)
                front = front.OrderByDescending(i => i.Crowding).Take(size - survivors.Count).ToList();
            survivors.AddRange(front);
        }
        return survivors;
    }
}
