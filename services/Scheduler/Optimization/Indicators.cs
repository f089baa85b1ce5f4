namespace Platform.Scheduler.Optimization;

/// <summary>Quality indicators of an approximation front (every objective minimised).</summary>
public static class Indicators
{
    /// <summary>
    /// The hypervolume dominated by <paramref name="front"/> and bounded by <paramref name="reference"/>, exactly, for
    /// two or three objectives. Points that do not strictly dominate the reference add nothing.
    /// </summary>
    public static double Hypervolume(IReadOnlyList<double[]> front, double[] reference)
    {
        var inside = front.Where(p => p.Zip(reference).All(pair => pair.First < pair.Second)).ToList();
        return reference.Length switch
        {
            2 => Area(inside, reference),
            3 => Volume(inside, reference),
            _ => throw new ArgumentException("the hypervolume is computed for two or three objectives", nameof(reference)),
        };
    }

    /// <summary>The area by a sweep along the first objective, keeping the best second objective seen.</summary>
    static double Area(IEnumerable<double[]> points, double[] reference)
    {
        double area = 0, bestSecond = reference[1];
        foreach (var p in points.OrderBy(p => p[0]).ThenBy(p => p[1]))
        {
            if (p[1] >= bestSecond) continue;
            area += (reference[0] - p[0]) * (bestSecond - p[1]);
            bestSecond = p[1];
        }
        return area;
    }

    /// <summary>The volume as slices along the third objective, each the area of the points below it.</summary>
    static double Volume(List<double[]> points, double[] reference)
    {
        var sorted = points.OrderBy(p => p[2]).ToList();
        double volume = 0;
        for (var i = 0; i < sorted.Count; i++)
        {
            var top = i + 1 < sorted.Count ? sorted[i + 1][2] : reference[2];
            if (top <= sorted[i][2]) continue;
            volume += Area(sorted.Take(i + 1), reference) * (top - sorted[i][2]);
        }
        return volume;
    }

    /// <summary>Inverted generational distance: the mean, over the true front's points, of the distance to the nearest approximation point.</summary>
    public static double InvertedGenerationalDistance(IReadOnlyList<double[]> front, IReadOnlyList<double[]> trueFront) =>
        trueFront.Average(r => front.Min(p => Math.Sqrt(p.Zip(r).Sum(pair => (pair.First - pair.Second) * (pair.First - pair.Second)))));
}
