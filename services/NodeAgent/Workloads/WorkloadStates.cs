namespace Platform.NodeAgent.Workloads;

// The names the agent shares with Compute for a workload's states (Compute's PowerStates and DesiredStates): one
// constant each, so a misspelt state is a compile error. The strings on the wire do not change.

/// <summary>What the agent sees of a workload's process or VM.</summary>
public static class PowerStates
{
    public const string NoState = "nostate";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Shutdown = "shutdown";
    public const string Crashed = "crashed";
}

/// <summary>What Compute asks the agent to make true.</summary>
public static class DesiredStates
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Paused = "paused";
    public const string Absent = "absent";
    /// <summary>Handed over to a migration's target: the copy here stays, stopped, until Compute drops it from this node.</summary>
    public const string Migrated = "migrated";
}

/// <summary>The restart policies the agent applies when a workload exits by itself.</summary>
public static class RestartPolicies
{
    public const string Never = "never";
    public const string OnFailure = "on-failure";
    public const string Always = "always";
}
