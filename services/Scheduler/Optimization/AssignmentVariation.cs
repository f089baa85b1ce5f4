namespace Platform.Scheduler.Optimization;

/// <summary>
/// Integer genomes where gene i takes one of <c>choices[i]</c> (an assignment of items to bins, say): uniform
/// crossover, and a random reset of each gene with the mutation probability (1/n by default) to another of its choices.
/// </summary>
public sealed class AssignmentVariation(int[][] choices) : IVariation<int[]>
{
    public double CrossoverProbability { get; init; } = 0.9;
    public double MutationProbability { get; init; } = choices.Length == 0 ? 0 : 1.0 / choices.Length;

    public int[] Create(Random random)
    {
        var genome = new int[choices.Length];
        for (var i = 0; i < genome.Length; i++) genome[i] = choices[i][random.Next(choices[i].Length)];
        return genome;
    }

    public (int[] First, int[] Second) Crossover(int[] first, int[] second, Random random)
    {
        var a = (int[])first.Clone();
        var b = (int[])second.Clone();
        if (random.NextDouble() > CrossoverProbability) return (a, b);
        for (var i = 0; i < a.Length; i++)
            if (random.Next(2) == 0) (a[i], b[i]) = (b[i], a[i]);
        return (a, b);
    }

    public void Mutate(int[] genome, Random random)
    {
        for (var i = 0; i < genome.Length; i++)
        {
            if (choices[i].Length < 2 || random.NextDouble() > MutationProbability) continue;
            var other = choices[i][random.Next(choices[i].Length - 1)];
            // Picks uniformly among the choices other than the current one.
            genome[i] = other == genome[i] ? choices[i][^1] : other;
        }
    }
}

/// <summary>Permutations of 0..n-1 (an order of items): order crossover (OX1) and swap mutation.</summary>
public sealed class PermutationVariation(int length) : IVariation<int[]>
{
    public double CrossoverProbability { get; init; } = 0.9;
    public double MutationProbability { get; init; } = length == 0 ? 0 : 1.0 / length;

    public int[] Create(Random random)
    {
        var genome = Enumerable.Range(0, length).ToArray();
        random.Shuffle(genome);
        return genome;
    }

    public (int[] First, int[] Second) Crossover(int[] first, int[] second, Random random)
    {
        if (length < 2 || random.NextDouble() > CrossoverProbability) return ((int[])first.Clone(), (int[])second.Clone());
        var start = random.Next(length);
        var end = random.Next(length);
        if (start > end) (start, end) = (end, start);
        return (OrderCrossover(first, second, start, end), OrderCrossover(second, first, start, end));
    }

    /// <summary>Keeps <paramref name="keep"/>'s slice [start, end] in place and fills the rest in <paramref name="fill"/>'s order, wrapping after the slice.</summary>
    static int[] OrderCrossover(int[] keep, int[] fill, int start, int end)
    {
        var child = new int[keep.Length];
        var used = new bool[keep.Length];
        for (var i = start; i <= end; i++)
        {
            child[i] = keep[i];
            used[keep[i]] = true;
        }
        var position = (end + 1) % keep.Length;
        for (var k = 0; k < fill.Length; k++)
        {
            var gene = fill[(end + 1 + k) % fill.Length];
            if (used[gene]) continue;
            child[position] = gene;
            used[gene] = true;
            position = (position + 1) % keep.Length;
        }
        return child;
    }

    public void Mutate(int[] genome, Random random)
    {
        for (var i = 0; i < genome.Length; i++)
        {
            if (random.NextDouble() > MutationProbability) continue;
            var j = random.Next(genome.Length);
            (genome[i], genome[j]) = (genome[j], genome[i]);
        }
    }
}
