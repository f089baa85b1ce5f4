namespace Platform.Compute.V1;

// The values of workloads.proto's and migrations.proto's string fields that Compute and the NodeAgents both speak: one
// constant each, shared, so neither side can misspell what the other reads. (The fields are strings on the wire for
// the seeds' JSON; these are their vocabularies.)

/// <summary><c>power_state</c>: what the node's agent last saw of the process or VM (Nova's power_state).</summary>
public static class PowerStates
{
    public const string NoState = "nostate";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Shutdown = "shutdown";
    public const string Crashed = "crashed";
}

/// <summary><c>desired_state</c>: what the node's agent is asked to make true.</summary>
public static class DesiredStates
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Paused = "paused";
    public const string Absent = "absent";
    /// <summary>Handed over to a migration's target: the source keeps its stopped copy until the target runs it.</summary>
    public const string Migrated = "migrated";
}

/// <summary><c>restart_policy</c>: applied by the node's agent when a workload exits by itself.</summary>
public static class RestartPolicies
{
    public const string Never = "never";
    public const string OnFailure = "on-failure";
    public const string Always = "always";

    public static readonly string[] All = [Never, OnFailure, Always];
}

/// <summary><c>network</c>: what network a workload may use.</summary>
public static class WorkloadNetworks
{
    /// <summary>None at all: the sandbox's own empty network namespace, a VM with no NIC.</summary>
    public const string None = "none";
    /// <summary>The node's own network (the process driver cannot offer anything else).</summary>
    public const string Host = "host";
}

/// <summary>A migration's <c>phase</c> as Compute stores and serves it, and answers the source agent with.</summary>
public static class MigrationPhases
{
    public const string Pending = "pending";
    public const string Precopy = "precopy";
    public const string FinalCopy = "final-copy";
    /// <summary>Handed over: the target is starting the workload from what it received.</summary>
    public const string Starting = "starting";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Aborted = "aborted";

    /// <summary>The migration still runs before its handover: the source goes on sending.</summary>
    public static bool StillSending(string phase) => phase is Pending or Precopy or FinalCopy;
}

/// <summary>The <c>phase</c> a source agent reports; <see cref="Handover"/> moves the migration to <see cref="MigrationPhases.Starting"/>.</summary>
public static class MigrationReportPhases
{
    public const string Started = "started";
    public const string Precopy = MigrationPhases.Precopy;
    public const string FinalCopy = MigrationPhases.FinalCopy;
    public const string Handover = "handover";
    public const string Failed = MigrationPhases.Failed;

    public static readonly string[] All = [Started, Precopy, FinalCopy, Handover, Failed];

    /// <summary>The phase a report moves the migration to.</summary>
    public static string Stored(string reported) => reported == Handover ? MigrationPhases.Starting : reported;
}

/// <summary>
/// A qemu workload's <c>image</c>: the name of a disk image in the node's image store, never a path or a protocol
/// (<c>json:</c>, <c>nbd:</c>); its extension says its format, given to qemu explicitly.
/// </summary>
public static partial class DiskImages
{
    public const string Rule = "the name of an image in the node's image store: letters, digits, '.', '_' and '-' ending in .raw, .img or .qcow2 (no path)";

    public static bool IsName(string image) => ImageName().IsMatch(image);

    /// <summary>qemu's <c>format=</c> for the image's name.</summary>
    public static string Format(string image) => image.EndsWith(".qcow2", StringComparison.Ordinal) ? "qcow2" : "raw";

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,122}\.(raw|img|qcow2)$")]
    private static partial System.Text.RegularExpressions.Regex ImageName();
}
