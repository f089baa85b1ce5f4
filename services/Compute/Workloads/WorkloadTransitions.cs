using Platform.Compute.V1;
using static Platform.Compute.Workloads.VmStates;

namespace Platform.Compute.Workloads;

/// <summary>What an action does: the states it starts from, the task it runs, what the agent is asked for, where it ends.</summary>
public sealed record WorkloadAction(
    string Name, string[] From, bool DuringTask, string Task, string? Desired, string Target)
{
    /// <summary>An action with no task (update) changes the record and is done at once.</summary>
    public bool Instant => Task == TaskStates.None;
}

/// <summary>
/// The transition table, after OpenStack Nova: a workload rests in a vm_state; an action moves it into a task_state
/// until the agent reports the target power state, then into the action's target vm_state. An action is allowed only
/// from its listed vm_states and, unless it may interrupt (delete, force_stop), only when no task is in progress.
/// </summary>
public static class WorkloadTransitions
{
    public static readonly WorkloadAction Start = new("start", [Stopped], false, TaskStates.PoweringOn, DesiredStates.Running, Active);
    public static readonly WorkloadAction Stop = new("stop", [Active, Paused], false, TaskStates.PoweringOff, DesiredStates.Stopped, Stopped);
    public static readonly WorkloadAction ForceStop = new("force_stop", [Active, Paused], true, TaskStates.PoweringOff, DesiredStates.Stopped, Stopped);
    public static readonly WorkloadAction Restart = new("restart", [Active], false, TaskStates.Rebooting, DesiredStates.Running, Active);
    public static readonly WorkloadAction RestartHard = new("restart_hard", [Active, Stopped, Paused, Error], false, TaskStates.RebootingHard, DesiredStates.Running, Active);
    public static readonly WorkloadAction Pause = new("pause", [Active], false, TaskStates.Pausing, DesiredStates.Paused, Paused);
    public static readonly WorkloadAction Resume = new("resume", [Paused], false, TaskStates.Unpausing, DesiredStates.Running, Active);
    public static readonly WorkloadAction Update = new("update", [Building, Active, Stopped, Paused, Error, Lost], false, TaskStates.None, null, "");
    /// <summary>Moves the workload to another node (it stays active; the migration's record tells how far it is).</summary>
    public static readonly WorkloadAction Migrate = new("migrate", [Active], false, TaskStates.Migrating, DesiredStates.Running, Active);
    public static readonly WorkloadAction Delete = new("delete", [Building, Active, Stopped, Paused, Error, Lost], true, TaskStates.Deleting, DesiredStates.Absent, Deleted);

    public static readonly WorkloadAction[] All = [Start, Stop, ForceStop, Restart, RestartHard, Pause, Resume, Update, Migrate, Delete];

    /// <summary>
    /// Whether <paramref name="action"/> may run now; tasks of the same kind in progress block it too. Nothing
    /// interrupts a migration: it is aborted through its own API, which puts the workload back on its source.
    /// </summary>
    public static bool Allows(WorkloadAction action, string vmState, string taskState) =>
        action.From.Contains(vmState)
        && (taskState == TaskStates.None || (action.DuringTask && taskState is not (TaskStates.Deleting or TaskStates.Migrating)));

    /// <summary>The actions the state allows, in the table's order: what a 409 tells the caller.</summary>
    public static IReadOnlyList<string> AllowedActions(string vmState, string taskState) =>
        [.. All.Where(a => Allows(a, vmState, taskState)).Select(a => a.Name)];

    /// <summary>The tasks that end in error when the agent reports the workload exited before it ran.</summary>
    public static bool IsStarting(string taskState) =>
        taskState is TaskStates.Spawning or TaskStates.PoweringOn or TaskStates.Rebooting or TaskStates.RebootingHard or TaskStates.Unpausing;

    /// <summary>The vm_state a report of <paramref name="powerState"/> completes the task into, or null while it is still under way.</summary>
    public static string? Completes(string taskState, string powerState, bool absent) => (taskState, powerState) switch
    {
        (TaskStates.Deleting, _) when absent => Deleted,
        (TaskStates.Spawning or TaskStates.PoweringOn or TaskStates.Unpausing or TaskStates.Rebooting or TaskStates.RebootingHard, PowerStates.Running) => Active,
        (TaskStates.PoweringOff, PowerStates.Shutdown or PowerStates.Crashed) => Stopped,
        (TaskStates.Pausing, PowerStates.Paused) => Paused,
        _ => null,
    };

    /// <summary>Where a workload goes when its power state changes with no task in progress (it exited by itself, say).</summary>
    public static string Settles(string vmState, string powerState) => (vmState, powerState) switch
    {
        (Active or Paused, PowerStates.Shutdown) => Stopped,
        (Active or Paused, PowerStates.Crashed) => Error,
        (Stopped or Error, PowerStates.Running) => Active,
        // Its node came back: the agent still has it.
        (Lost, PowerStates.Running) => Active,
        (Lost, PowerStates.Paused) => Paused,
        (Lost, PowerStates.Shutdown) => Stopped,
        (Lost, PowerStates.Crashed) => Error,
        _ => vmState,
    };
}
