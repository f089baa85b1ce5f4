namespace Platform.Scheduler.Placement;

/// <summary>How the scheduler places jobs (<c>Scheduler:Placement</c>).</summary>
public sealed class PlacementOptions
{
    /// <summary>How often the loop follows the placed jobs and solves for the pending ones.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>The solve's time budget: NSGA-II stops after the generation during which it passes.</summary>
    public TimeSpan TimeBudget { get; set; } = TimeSpan.FromSeconds(1);
    public int Population { get; set; } = 100;
    public int Generations { get; set; } = 200;
    /// <summary>The most pending jobs one solve places, highest priority first.</summary>
    public int MaxBatch { get; set; } = 1000;
    /// <summary>A node's price when it has no <c>price-per-core-hour</c> label: tokens per core-hour.</summary>
    public double DefaultPricePerCoreHour { get; set; } = 1.0;
    /// <summary>A node's power when it has no <c>watts-per-core</c> label.</summary>
    public double DefaultWattsPerCore { get; set; } = 10.0;
    /// <summary>How much a job's delay counts in the SLA-weighted lateness objective, by tier.</summary>
    public Dictionary<string, double> TierWeights { get; set; } = new() { ["gold"] = 10, ["silver"] = 3, ["bronze"] = 1 };
    /// <summary>How many times a job is placed before a node loss, a refusal or a workload that never starts fails it for good.</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>How long a placed job's workload may take to start before the job is placed again.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>Whether a gold job that fits nowhere may send preemptible bronze jobs back to the queue.</summary>
    public bool Preemption { get; set; } = true;
}
