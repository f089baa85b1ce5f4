namespace Platform.Scheduler.Placement;

/// <summary>
/// A node as the scheduler sees it: Compute's capacity, status and labels; free resources (capacity less what its
/// workloads hold, less jobs placed here whose workload is not created yet); measured speed; price and power.
/// </summary>
public sealed record ClusterNode
{
    public Guid NodeId { get; init; }
    public string Name { get; init; } = "";
    public string Status { get; init; } = "";
    public bool Schedulable { get; init; }
    public bool Draining { get; init; }
    public string Admission { get; init; } = "";
    public int CpuMillis { get; init; }
    public long MemoryMib { get; init; }
    public int Gpus { get; init; }
    public int FreeCpuMillis { get; init; }
    public long FreeMemoryMib { get; init; }
    public int FreeGpus { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlySet<string> Drivers { get; init; } = new HashSet<string>();
    public double Speed { get; init; } = 1;
    public string SpeedBasis { get; init; } = "";
    public double PricePerCoreHour { get; init; }
    public double WattsPerCore { get; init; }

    public bool Ready => Status == "Ready";

    /// <summary>What placement depends on, as text: a solve is redone when it changes.</summary>
    public string Fingerprint =>
        $"{NodeId}:{Status}:{Schedulable}:{Draining}:{Admission}:{FreeCpuMillis}:{FreeMemoryMib}:{FreeGpus}:{string.Join(',', Drivers.Order())}:" +
        string.Join(',', Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    /// <summary>The CPU of the Ready nodes, in thousandths of a core (the size factor's measure).</summary>
    public static int ReadyCpuMillis(IEnumerable<ClusterNode> nodes) => (int)Math.Min(int.MaxValue, nodes.Where(n => n.Ready).Sum(n => (long)n.CpuMillis));
}
