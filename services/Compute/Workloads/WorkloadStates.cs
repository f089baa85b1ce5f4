namespace Platform.Compute.Workloads;

// The names the API and the database use for a workload's states: one constant each, so a misspelt state is a compile
// error and every transition can be found by reference. The strings on the wire do not change. What the agents share
// with Compute (power and desired states, restart policies) is in protos/WorkloadWireValues.cs.

/// <summary>Where a workload rests (OpenStack Nova's vm_state).</summary>
public static class VmStates
{
    public const string Building = "building";
    public const string Active = "active";
    public const string Stopped = "stopped";
    public const string Paused = "paused";
    public const string Error = "error";
    /// <summary>Its node is Down and its restart policy keeps it there; it comes back with the node.</summary>
    public const string Lost = "lost";
    public const string Deleted = "deleted";
}

/// <summary>What is under way (Nova's task_state): set by an action, cleared by the agent's report that completes it.</summary>
public static class TaskStates
{
    public const string None = "";
    public const string Spawning = "spawning";
    public const string PoweringOn = "powering-on";
    public const string PoweringOff = "powering-off";
    public const string Rebooting = "rebooting";
    public const string RebootingHard = "rebooting-hard";
    public const string Pausing = "pausing";
    public const string Unpausing = "unpausing";
    public const string Migrating = "migrating";
    public const string Deleting = "deleting";
}

/// <summary>An operation's status.</summary>
public static class OperationStatuses
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}
