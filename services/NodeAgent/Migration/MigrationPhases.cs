namespace Platform.NodeAgent.Migration;

/// <summary>
/// The phases a source agent reports to Compute, and those Compute answers with (its <c>MigrationPhases</c>): the
/// strings on the wire, one constant each.
/// </summary>
public static class MigrationPhases
{
    // Reported by the source.
    public const string Started = "started";
    public const string Precopy = "precopy";
    public const string FinalCopy = "final-copy";
    public const string Handover = "handover";
    public const string Failed = "failed";

    // Answered by Compute besides the above.
    public const string Pending = "pending";
    /// <summary>Handed over: the target is starting the workload.</summary>
    public const string Starting = "starting";

    /// <summary>Compute's answer says the migration still runs, so the source goes on sending.</summary>
    public static bool StillSending(string answered) => answered is Pending or Precopy or FinalCopy;
}
