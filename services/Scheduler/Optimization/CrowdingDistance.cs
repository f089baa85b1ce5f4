namespace Platform.Scheduler.Optimization;

/// <summary>
/// The crowding distance of the points of one front, as pymoo computes it: per objective, the normalised gap between
/// a point's two neighbours, summed and divided by the number of objectives. The extremes of an objective are
/// infinitely far (they are kept first), an objective on which all points agree adds nothing, and a duplicate of an
/// earlier point gets 0, so copies never crowd out distinct solutions.
/// </summary>
public static class CrowdingDistance
{
    public static double[] Of(IReadOnlyList<double[]> points)
    {
        var count = points.Count;
        var distance = new double[count];
        if (count <= 2)
        {
            Array.Fill(distance, double.PositiveInfinity);
            return distance;
        }
        var unique = UniqueIndices(points);
        var objectives = points[0].Length;
        var sum = new double[unique.Count];
        var sorted = new int[unique.Count];
        var keys = new double[unique.Count];
        for (var m = 0; m < objectives; m++)
        {
            for (var i = 0; i < sorted.Length; i++)
            {
                sorted[i] = i;
                keys[i] = points[unique[i]][m];
            }
            // Stable, as numpy's mergesort: equal values keep their order.
            Array.Sort(sorted, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
            var range = keys[sorted[^1]] - keys[sorted[0]];
            if (range == 0) continue;
            for (var s = 0; s < sorted.Length; s++)
            {
                var previous = s == 0 ? double.NegativeInfinity : keys[sorted[s - 1]];
                var next = s == sorted.Length - 1 ? double.PositiveInfinity : keys[sorted[s + 1]];
                sum[sorted[s]] += (next - previous) / range;
            }
        }
        for (var i = 0; i < unique.Count; i++) distance[unique[i]] = sum[i] / objectives;
        return distance;
    }

    /// <summary>The index of each point's first occurrence, in order.</summary>
    static List<int> UniqueIndices(IReadOnlyList<double[]> points)
    {
        var seen = new HashSet<double[]>(VectorComparer.Instance);
        var unique = new List<int>(points.Count);
        for (var i = 0; i < points.Count; i++)
            if (seen.Add(points[i])) unique.Add(i);
        return unique;
    }

    sealed class VectorComparer : IEqualityComparer<double[]>
    {
        public static readonly VectorComparer Instance = new();

        public bool Equals(double[]? x, double[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(double[] vector)
        {
            var hash = new HashCode();
            foreach (var value in vector) hash.Add(value);
            return hash.ToHashCode();
        }
    }
}
