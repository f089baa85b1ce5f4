namespace Platform.Scheduler.Optimization;

/// <summary>
/// A candidate solution: its genome and, once evaluated, its objective vector (every objective minimised) and its
/// total constraint violation (0 when feasible). The sort gives it a rank (0: the first front) and a crowding distance.
/// </summary>
public sealed class Individual<TGenome>(TGenome genome)
{
    public TGenome Genome { get; } = genome;
    public double[] Objectives { get; internal set; } = [];
    public double Violation { get; internal set; }
    public int Rank { get; internal set; }
    public double Crowding { get; internal set; }
    public bool Feasible => Violation <= 0;
}

/// <summary>What a problem says of one genome: its objectives (minimised) and how far it breaks the constraints (0: not at all).</summary>
public readonly record struct Evaluation(double[] Objectives, double Violation = 0);

/// <summary>A multi-objective problem over genomes of type <typeparamref name="TGenome"/>. Evaluate must be thread-safe.</summary>
public interface IProblem<TGenome>
{
    int ObjectiveCount { get; }
    Evaluation Evaluate(TGenome genome);
}

/// <summary>How genomes are made, recombined and mutated: the representation's operators.</summary>
public interface IVariation<TGenome>
{
    TGenome Create(Random random);

    /// <summary>Two children, new genomes: the parents are never changed.</summary>
    (TGenome First, TGenome Second) Crossover(TGenome first, TGenome second, Random random);

    /// <summary>Mutates <paramref name="genome"/> in place (a child the engine owns).</summary>
    void Mutate(TGenome genome, Random random);
}
