namespace Platform.Scheduler.Optimization;

/// <summary>Deb's constrained domination and the fast non-dominated sort (Deb et al. 2002, NSGA-II).</summary>
public static class Dominance
{
    /// <summary>Every objective of <paramref name="a"/> is no worse than <paramref name="b"/>'s and one is better.</summary>
    public static bool ParetoDominates(double[] a, double[] b)
    {
        var better = false;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] > b[i]) return false;
            if (a[i] < b[i]) better = true;
        }
        return better;
    }

    /// <summary>
    /// Deb's constrained domination: a feasible solution dominates an infeasible one; of two infeasible ones, the one
    /// that breaks the constraints less dominates; two feasible ones compare by Pareto domination.
    /// </summary>
    public static bool Dominates(double[] a, double violationA, double[] b, double violationB)
    {
        var feasibleA = violationA <= 0;
        var feasibleB = violationB <= 0;
        if (feasibleA && feasibleB) return ParetoDominates(a, b);
        if (feasibleA != feasibleB) return feasibleA;
        return violationA < violationB;
    }

    /// <summary>
    /// Sorts solutions into fronts by constrained domination: front 0 is dominated by none, front k only by solutions
    /// of fronts before it. Returns each front's indices, in order.
    /// </summary>
    public static List<List<int>> Sort(IReadOnlyList<double[]> objectives, IReadOnlyList<double> violations)
    {
        var count = objectives.Count;
        var dominatedBy = new int[count];
        var dominates = new List<int>[count];
        for (var p = 0; p < count; p++) dominates[p] = [];
        // Each pair once: which of the two, if either, dominates the other.
        for (var p = 0; p < count; p++)
            for (var q = p + 1; q < count; q++)
            {
                if (Dominates(objectives[p], violations[p], objectives[q], violations[q]))
                {
                    dominates[p].Add(q);
                    dominatedBy[q]++;
                }
                else if (Dominates(objectives[q], violations[q], objectives[p], violations[p]))
                {
                    dominates[q].Add(p);
                    dominatedBy[p]++;
                }
            }
        var fronts = new List<List<int>>();
        var current = Enumerable.Range(0, count).Where(p => dominatedBy[p] == 0).ToList();
        while (current.Count > 0)
        {
            fronts.Add(current);
            var next = new List<int>();
            foreach (var p in current)
                foreach (var q in dominates[p])
                    if (--dominatedBy[q] == 0) next.Add(q);
            current = next;
        }
        return fronts;
    }
}
