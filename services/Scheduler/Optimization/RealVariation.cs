namespace Platform.Scheduler.Optimization;

/// <summary>
/// Real-valued genomes within bounds: simulated binary crossover (SBX) and polynomial mutation as Deb defined them
/// and jMetal implements them. jMetal's defaults: crossover probability 0.9, η_c = 20; mutation probability 1/n, η_m = 20.
/// </summary>
public sealed class RealVariation(double[] lower, double[] upper) : IVariation<double[]>
{
    const double Epsilon = 1e-14;

    public double CrossoverProbability { get; init; } = 0.9;
    public double CrossoverEta { get; init; } = 20;
    public double MutationProbability { get; init; } = 1.0 / lower.Length;
    public double MutationEta { get; init; } = 20;

    public double[] Create(Random random)
    {
        var genome = new double[lower.Length];
        for (var i = 0; i < genome.Length; i++) genome[i] = lower[i] + random.NextDouble() * (upper[i] - lower[i]);
        return genome;
    }

    public (double[] First, double[] Second) Crossover(double[] first, double[] second, Random random)
    {
        var a = (double[])first.Clone();
        var b = (double[])second.Clone();
        if (random.NextDouble() > CrossoverProbability) return (a, b);
        for (var i = 0; i < a.Length; i++)
        {
            if (random.NextDouble() > 0.5 || Math.Abs(first[i] - second[i]) <= Epsilon) continue;
            var y1 = Math.Min(first[i], second[i]);
            var y2 = Math.Max(first[i], second[i]);
            var u = random.NextDouble();
            var c1 = 0.5 * (y1 + y2 - Spread(1 + 2 * (y1 - lower[i]) / (y2 - y1), u) * (y2 - y1));
            var c2 = 0.5 * (y1 + y2 + Spread(1 + 2 * (upper[i] - y2) / (y2 - y1), u) * (y2 - y1));
            c1 = Math.Clamp(c1, lower[i], upper[i]);
            c2 = Math.Clamp(c2, lower[i], upper[i]);
            if (random.NextDouble() <= 0.5) (c1, c2) = (c2, c1);
            a[i] = c1;
            b[i] = c2;
        }
        return (a, b);
    }

    /// <summary>SBX's spread factor β_q for a child bounded at distance β (in units of the parents' gap).</summary>
    double Spread(double beta, double u)
    {
        var alpha = 2 - Math.Pow(beta, -(CrossoverEta + 1));
        return u <= 1 / alpha
            ? Math.Pow(u * alpha, 1 / (CrossoverEta + 1))
            : Math.Pow(1 / (2 - u * alpha), 1 / (CrossoverEta + 1));
    }

    public void Mutate(double[] genome, Random random)
    {
        for (var i = 0; i < genome.Length; i++)
        {
            if (random.NextDouble() > MutationProbability) continue;
            var (low, high) = (lower[i], upper[i]);
            if (high <= low) continue;
            var y = genome[i];
            var delta1 = (y - low) / (high - low);
            var delta2 = (high - y) / (high - low);
            var u = random.NextDouble();
            var power = 1 / (MutationEta + 1);
            double deltaQ;
            if (u <= 0.5)
            {
                var value = 2 * u + (1 - 2 * u) * Math.Pow(1 - delta1, MutationEta + 1);
                deltaQ = Math.Pow(value, power) - 1;
            }
            else
            {
                var value = 2 * (1 - u) + 2 * (u - 0.5) * Math.Pow(1 - delta2, MutationEta + 1);
                deltaQ = 1 - Math.Pow(value, power);
            }
            genome[i] = Math.Clamp(y + deltaQ * (high - low), low, high);
        }
    }
}
