using Platform.Compute.Workloads;

namespace Platform.Compute.Tests;

/// <summary>Every cell of the transition table: each action from each state, with and without a task in progress.</summary>
public sealed class WorkloadTransitionTests
{
    static readonly string[] VmStates = ["building", "active", "stopped", "paused", "error", "lost", "deleted"];

    // The table as a reader would write it: action → the vm_states it starts from.
    static readonly Dictionary<string, string[]> Expected = new()
    {
        ["start"] = ["stopped"],
        ["stop"] = ["active", "paused"],
        ["force_stop"] = ["active", "paused"],
        ["restart"] = ["active"],
        ["restart_hard"] = ["active", "stopped", "paused", "error"],
        ["pause"] = ["active"],
        ["resume"] = ["paused"],
        ["update"] = ["building", "active", "stopped", "paused", "error", "lost"],
        ["migrate"] = ["active"],
        ["delete"] = ["building", "active", "stopped", "paused", "error", "lost"],
    };

    public static TheoryData<string, string> Cells()
    {
        var data = new TheoryData<string, string>();
        foreach (var action in Expected.Keys)
            foreach (var state in VmStates)
                data.Add(action, state);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void With_no_task_in_progress_an_action_is_allowed_exactly_from_its_states(string action, string vmState) =>
        Assert.Equal(Expected[action].Contains(vmState), WorkloadTransitions.Allows(Action(action), vmState, ""));

    [Theory]
    [MemberData(nameof(Cells))]
    public void While_a_task_runs_only_delete_and_force_stop_may_interrupt_it(string action, string vmState) =>
        Assert.Equal(action is "delete" or "force_stop" && Expected[action].Contains(vmState),
            WorkloadTransitions.Allows(Action(action), vmState, "powering-off"));

    [Fact]
    public void Nothing_interrupts_a_delete_in_progress() =>
        Assert.Empty(WorkloadTransitions.AllowedActions("active", "deleting"));

    [Fact]
    public void Nothing_interrupts_a_migration_in_progress() =>
        Assert.Empty(WorkloadTransitions.AllowedActions("active", "migrating"));

    [Fact]
    public void A_deleted_workload_allows_nothing() =>
        Assert.Empty(WorkloadTransitions.AllowedActions("deleted", ""));

    [Theory]
    [InlineData("spawning", "running", false, "active")]
    [InlineData("powering-on", "running", false, "active")]
    [InlineData("rebooting", "running", false, "active")]
    [InlineData("rebooting-hard", "running", false, "active")]
    [InlineData("unpausing", "running", false, "active")]
    [InlineData("powering-off", "shutdown", false, "stopped")]
    [InlineData("powering-off", "crashed", false, "stopped")]
    [InlineData("pausing", "paused", false, "paused")]
    [InlineData("deleting", "nostate", true, "deleted")]
    [InlineData("deleting", "running", false, null)]
    [InlineData("pausing", "running", false, null)]
    [InlineData("powering-off", "running", false, null)]
    public void A_task_completes_when_the_agent_reports_its_target(string task, string power, bool absent, string? vmState) =>
        Assert.Equal(vmState, WorkloadTransitions.Completes(task, power, absent));

    [Theory]
    [InlineData("active", "shutdown", "stopped")]
    [InlineData("active", "crashed", "error")]
    [InlineData("paused", "shutdown", "stopped")]
    [InlineData("stopped", "running", "active")]
    [InlineData("lost", "running", "active")]
    [InlineData("lost", "crashed", "error")]
    [InlineData("active", "running", "active")]
    public void Without_a_task_a_reported_change_settles_the_workload(string vmState, string power, string settled) =>
        Assert.Equal(settled, WorkloadTransitions.Settles(vmState, power));

    static WorkloadAction Action(string name) => WorkloadTransitions.All.Single(a => a.Name == name);
}
