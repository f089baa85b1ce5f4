namespace Platform.Scheduler.Jobs;

/// <summary>A job's states (Slurm's, in lower case as seed 003 writes them).</summary>
public static class JobStates
{
    public const string Pending = "pending";
    public const string Scheduled = "scheduled";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Timeout = "timeout";
    /// <summary>Only in a job's history: a preempted job goes straight back to pending.</summary>
    public const string Preempted = "preempted";

    public static readonly string[] All = [Pending, Scheduled, Running, Completed, Failed, Cancelled, Timeout];
    /// <summary>Placed on a node: it holds that node's resources.</summary>
    public static readonly string[] Placed = [Scheduled, Running];
    public static readonly string[] Finished = [Completed, Failed, Cancelled, Timeout];
}

/// <summary>Why a job changed state: the reason codes of its transitions.</summary>
public static class JobReasons
{
    public const string Submitted = "submitted";
    public const string Placed = "placed";
    public const string Started = "started";
    public const string Exited = "exited";
    public const string WorkloadFailed = "workload-failed";
    public const string Cancelled = "cancelled";
    public const string MaxRuntime = "max-runtime-exceeded";
    public const string NodeLost = "node-lost";
    public const string Preempted = "preempted";
    public const string Requeued = "requeued";
    public const string DispatchFailed = "dispatch-failed";
    public const string DependencyFailed = "dependency-failed";
    public const string WorkloadGone = "workload-gone";
    public const string Refused = "refused";
    public const string TooManyAttempts = "too-many-attempts";
    public const string StartTimeout = "start-timeout";
    public const string PaymentRefused = "payment-refused";
}

public static class SlaTiers
{
    public const string Gold = "gold";
    public const string Silver = "silver";
    public const string Bronze = "bronze";
    public static readonly string[] All = [Gold, Silver, Bronze];
}
