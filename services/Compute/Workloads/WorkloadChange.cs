namespace Platform.Compute.Workloads;

/// <summary>
/// What an action changes besides its task, as values, never as SQL: null leaves a column as it is. The store owns
/// the statement that applies it.
/// </summary>
public sealed record WorkloadChange
{
    public static readonly WorkloadChange None = new();

    public string? Name { get; init; }
    public string? RestartPolicy { get; init; }
    /// <summary>The labels that replace the workload's, or null to keep them.</summary>
    public Dictionary<string, string>? Labels { get; init; }
    public long? StopTimeoutMs { get; init; }
    public bool? ForceStop { get; init; }
    public bool? RestartHard { get; init; }
    /// <summary>Asks the agent for one more restart (its restart generation moves on).</summary>
    public bool NextRestart { get; init; }
}
