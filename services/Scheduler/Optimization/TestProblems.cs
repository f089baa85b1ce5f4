namespace Platform.Scheduler.Optimization;

/// <summary>
/// The standard benchmark problems the engine is validated on (Zitzler, Deb, Thiele 2000; Deb, Thiele, Laumanns,
/// Zitzler 2002), with samples of their true Pareto fronts for the indicators.
/// </summary>
public abstract class TestProblem(string name, int variables, int objectives) : IProblem<double[]>
{
    public string Name { get; } = name;
    public int Variables { get; } = variables;
    public int ObjectiveCount { get; } = objectives;
    public double[] Lower { get; } = new double[variables];
    public double[] Upper { get; } = Enumerable.Repeat(1.0, variables).ToArray();

    public abstract Evaluation Evaluate(double[] x);

    /// <summary>Points on the true Pareto front.</summary>
    public abstract IReadOnlyList<double[]> TrueFront(int points);

    /// <summary>jMetal's settings: SBX p = 0.9, η = 20; polynomial mutation p = 1/n, η = 20.</summary>
    public RealVariation JMetalVariation() => new(Lower, Upper);

    public static TestProblem Zdt1() => new Zdt("ZDT1", (f1, g) => 1 - Math.Sqrt(f1 / g));
    public static TestProblem Zdt2() => new Zdt("ZDT2", (f1, g) => 1 - f1 / g * (f1 / g));
    public static TestProblem Zdt3() => new Zdt("ZDT3", (f1, g) => 1 - Math.Sqrt(f1 / g) - f1 / g * Math.Sin(10 * Math.PI * f1));
    public static TestProblem Dtlz2() => new Dtlz2Problem();

    public static IReadOnlyList<TestProblem> All() => [Zdt1(), Zdt2(), Zdt3(), Dtlz2()];

    /// <summary>ZDT with n = 30: f1 = x1, g = 1 + 9·mean(x2..xn), f2 = g·h(f1, g); the front is g = 1.</summary>
    sealed class Zdt(string name, Func<double, double, double> h) : TestProblem(name, 30, 2)
    {
        public override Evaluation Evaluate(double[] x)
        {
            var f1 = x[0];
            double sum = 0;
            for (var i = 1; i < x.Length; i++) sum += x[i];
            var g = 1 + 9 * sum / (x.Length - 1);
            return new Evaluation([f1, g * h(f1, g)]);
        }

        public override IReadOnlyList<double[]> TrueFront(int points)
        {
            var curve = Enumerable.Range(0, points).Select(i => (double)i / (points - 1)).Select(f1 => new[] { f1, h(f1, 1) }).ToList();
            // ZDT3's front is disconnected: only the non-dominated parts of the curve belong to it.
            return curve.Where(p => !curve.Any(q => Dominance.ParetoDominates(q, p))).ToList();
        }
    }

    /// <summary>DTLZ2 with 3 objectives and n = 12: the front is the unit sphere's positive octant.</summary>
    sealed class Dtlz2Problem() : TestProblem("DTLZ2", 12, 3)
    {
        public override Evaluation Evaluate(double[] x)
        {
            double g = 0;
            for (var i = ObjectiveCount - 1; i < x.Length; i++) g += (x[i] - 0.5) * (x[i] - 0.5);
            var a = x[0] * Math.PI / 2;
            var b = x[1] * Math.PI / 2;
            return new Evaluation([(1 + g) * Math.Cos(a) * Math.Cos(b), (1 + g) * Math.Cos(a) * Math.Sin(b), (1 + g) * Math.Sin(a)]);
        }

        /// <summary>Das and Dennis's evenly spread points of the simplex, projected onto the sphere (at least <paramref name="points"/>).</summary>
        public override IReadOnlyList<double[]> TrueFront(int points)
        {
            var divisions = 1;
            while ((divisions + 1) * (divisions + 2) / 2 < points) divisions++;
            var front = new List<double[]>();
            for (var i = 0; i <= divisions; i++)
                for (var j = 0; i + j <= divisions; j++)
                {
                    double[] p = [i, j, divisions - i - j];
                    var length = Math.Sqrt(p.Sum(v => v * v));
                    front.Add(p.Select(v => v / length).ToArray());
                }
            return front;
        }
    }
}
