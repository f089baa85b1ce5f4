namespace Platform.Tokenomics.Parameters;

/// <summary>
/// The parameters governance changes, each with its default (the genesis value unless <c>Tokenomics:Genesis:&lt;name&gt;</c>
/// says otherwise) and the range a proposal may set it to.
/// </summary>
public static class PlatformParameters
{
    public const string UnbondingPeriodSeconds = "unbonding_period_seconds";
    public const string RewardPerCpuSecond = "reward_per_cpu_second";
    public const string RewardPerMemoryGibHour = "reward_per_memory_gib_hour";
    public const string RewardPerRelayGib = "reward_per_relay_gib";
    public const string DowntimeSlashFraction = "downtime_slash_fraction";
    public const string SlaSlashFraction = "sla_slash_fraction";
    public const string JailSeconds = "jail_seconds";
    public const string DowntimeWindowSeconds = "downtime_window_seconds";
    public const string DowntimeMaxMissedLeases = "downtime_max_missed_leases";
    public const string ProposalThreshold = "proposal_threshold";
    public const string VotingDelaySeconds = "voting_delay_seconds";
    public const string VotingPeriodSeconds = "voting_period_seconds";
    public const string QuorumFraction = "quorum_fraction";
    public const string TimelockSeconds = "timelock_seconds";
    public const string GracePeriodSeconds = "grace_period_seconds";

    public sealed record Definition(string Name, decimal Default, decimal Min, decimal Max, string Meaning);

    public static readonly IReadOnlyList<Definition> All =
    [
        new(UnbondingPeriodSeconds, 7 * 86400, 60, 365 * 86400, "how long unstaked tokens wait before they can be spent (and can still be slashed)"),
        new(RewardPerCpuSecond, 1000, 0, 1_000_000, "units minted per CPU-second that workloads used on a node"),
        new(RewardPerMemoryGibHour, 100, 0, 1_000_000, "units minted per GiB-hour of memory that workloads held on a node"),
        new(RewardPerRelayGib, 10_000, 0, 1_000_000_000, "units minted per GiB that a node's onion relay carried"),
        new(DowntimeSlashFraction, 0.0001m, 0, 0.05m, "fraction of a validator's stake burned for proven downtime"),
        new(SlaSlashFraction, 0.001m, 0, 0.2m, "fraction of a validator's stake burned for a job whose deadline its node missed"),
        new(JailSeconds, 600, 60, 30 * 86400, "how long a validator slashed for downtime earns nothing before it may be unjailed"),
        new(DowntimeWindowSeconds, 3600, 60, 30 * 86400, "the sliding window in which missed leases are counted"),
        new(DowntimeMaxMissedLeases, 3, 1, 10_000, "missed leases in the window that prove downtime"),
        new(ProposalThreshold, 1, 0, 1_000_000_000_000_000, "stake a proposer needs"),
        new(VotingDelaySeconds, 86400, 0, 30 * 86400, "from a proposal to the start of its vote"),
        new(VotingPeriodSeconds, 7 * 86400, 60, 90 * 86400, "how long a vote lasts"),
        new(QuorumFraction, 0.04m, 0.01m, 0.5m, "share of the snapshot's total voting power that must vote For or Abstain"),
        new(TimelockSeconds, 2 * 86400, 0, 30 * 86400, "from queueing a succeeded proposal to when it may be executed"),
        new(GracePeriodSeconds, 14 * 86400, 60, 90 * 86400, "how long a queued proposal may wait for execution before it expires"),
    ];

    public static Definition? Find(string name) => All.FirstOrDefault(d => d.Name == name);
}
