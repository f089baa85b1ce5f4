namespace Platform.Scheduler.Priority;

/// <summary>
/// Slurm's multifactor weights (<c>Scheduler:Priority</c>): a job's priority is Σ weight × factor, each factor 0..1.
/// </summary>
public sealed class PriorityOptions
{
    public double TierWeight { get; set; } = 1000;
    public double AgeWeight { get; set; } = 500;
    public double SizeWeight { get; set; } = 100;
    public double FairShareWeight { get; set; } = 800;
    /// <summary>The wait at which the age factor reaches 1 (Slurm's PriorityMaxAge).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(1);
    /// <summary>How fast past use is forgotten (Slurm's PriorityDecayHalfLife).</summary>
    public TimeSpan UsageHalfLife { get; set; } = TimeSpan.FromDays(1);
    public Dictionary<string, double> TierFactors { get; set; } = new() { ["gold"] = 1.0, ["silver"] = 0.5, ["bronze"] = 0.0 };
}
