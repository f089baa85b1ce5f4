namespace Platform.Compute.Workloads;

/// <summary>What an action does: the states it starts from, the task it runs, what the agent is asked for, where it ends.</summary>
public sealed record WorkloadAction(
    string Name, string[] From, bool DuringTask, string Task, string? Desired, string Target);

/// <summary>
/// The transition table, after OpenStack Nova: a workload rests in a vm_state; an action moves it into a task_state
/// until the agent reports the target power state, then into the action's target vm_state. An action is allowed only
/// from its listed vm_states and, unless it may interrupt (delete, force_stop), only when no task is in progress.
/// </summary>
public static class WorkloadTransitions
{
    public static readonly WorkloadAction Start = new("start", ["stopped"], false, "powering-on", "running", "active");
    public static readonly WorkloadAction Stop = new("stop", ["active", "paused"], false, "powering-off", "stopped", "stopped");
    public static readonly WorkloadAction ForceStop = new("force_stop", ["active", "paused"], true, "powering-off", "stopped", "stopped");
    public static readonly WorkloadAction Restart = new("restart", ["active"], false, "rebooting", "running", "active");
    public static readonly WorkloadAction RestartHard = new("restart_hard", ["active", "stopped", "paused", "error"], false, "rebooting-hard", "running", "active");
    public static readonly WorkloadAction Pause = new("pause", ["active"], false, "pausing", "paused", "paused");
    public static readonly WorkloadAction Resume = new("resume", ["paused"], false, "unpausing", "running", "active");
    public static readonly WorkloadAction Update = new("update", ["building", "active", "stopped", "paused", "error", "lost"], false, "", null, "");
    /// <summary>Moves the workload to another node (it stays active; the migration's record tells how far it is).</summary>
    public static readonly WorkloadAction Migrate = new("migrate", ["active"], false, "migrating", "running", "active");
    public static readonly WorkloadAction Delete = new("delete", ["building", "active", "stopped", "paused", "error", "lost"], true, "deleting", "absent", "deleted");

    public static readonly WorkloadAction[] All = [Start, Stop, ForceStop, Restart, RestartHard, Pause, Resume, Update, Migrate, Delete];

    /// <summary>
    /// Whether <paramref name="action"/> may run now; tasks of the same kind in progress block it too. Nothing
    /// interrupts a migration: it is aborted through its own API, which puts the workload back on its source.
    /// </summary>
    public static bool Allows(WorkloadAction action, string vmState, string taskState) =>
        action.From.Contains(vmState) && (taskState == "" || (action.DuringTask && taskState is not ("deleting" or "migrating")));

    /// <summary>The actions the state allows, in the table's order: what a 409 tells the caller.</summary>
    public static IReadOnlyList<string> AllowedActions(string vmState, string taskState) =>
        [.. All.Where(a => Allows(a, vmState, taskState)).Select(a => a.Name)];

    /// <summary>The vm_state a report of <paramref name="powerState"/> completes the task into, or null while it is still under way.</summary>
    public static string? Completes(string taskState, string powerState, bool absent) => (taskState, powerState) switch
    {
        ("deleting", _) when absent => "deleted",
        ("spawning" or "powering-on" or "unpausing" or "rebooting" or "rebooting-hard", "running") => "active",
        ("powering-off", "shutdown" or "crashed") => "stopped",
        ("pausing", "paused") => "paused",
        _ => null,
    };

    /// <summary>Where a workload goes when its power state changes with no task in progress (it exited by itself, say).</summary>
    public static string Settles(string vmState, string powerState) => (vmState, powerState) switch
    {
        ("active" or "paused", "shutdown") => "stopped",
        ("active" or "paused", "crashed") => "error",
        ("stopped" or "error", "running") => "active",
        // Its node came back: the agent still has it.
        ("lost", "running") => "active",
        ("lost", "paused") => "paused",
        ("lost", "shutdown") => "stopped",
        ("lost", "crashed") => "error",
        _ => vmState,
    };
}
