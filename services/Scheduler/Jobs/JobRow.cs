using Platform.Scheduler.V1;

namespace Platform.Scheduler.Jobs;

/// <summary>A row of <c>scheduler.jobs</c>, mapped by Dapper by column name.</summary>
public sealed record JobRow
{
    public Guid JobId { get; init; }
    public string Name { get; init; } = "";
    public string Owner { get; init; } = "";
    public string SlaTier { get; init; } = SlaTiers.Bronze;
    public string Status { get; init; } = JobStates.Pending;
    public string Reason { get; init; } = "";
    public int CpuMillis { get; init; }
    public long MemoryMib { get; init; }
    public int GpuCount { get; init; }
    public long EstimatedRuntimeS { get; init; }
    public long MaxRuntimeS { get; init; }
    public DateTimeOffset? Deadline { get; init; }
    public string Driver { get; init; } = "process";
    public string Command { get; init; } = "";
    public string[] Args { get; init; } = [];
    public string Image { get; init; } = "";
    public Dictionary<string, string> NodeSelector { get; init; } = [];
    public Dictionary<string, string> Labels { get; init; } = [];
    public Dictionary<string, string> Affinity { get; init; } = [];
    public Dictionary<string, string> AntiAffinity { get; init; } = [];
    public Guid[] DependsOn { get; init; } = [];
    public bool Preemptible { get; init; }
    public int Attempts { get; init; }
    public Guid? NodeId { get; init; }
    public Guid? WorkloadId { get; init; }
    public int? ExitCode { get; init; }
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The idempotency key of this attempt's workload: a dispatch repeated after a crash finds the first one.</summary>
    public string DispatchKey => $"job-{JobId:N}-attempt-{Attempts}";

    /// <summary>Whether the job ran, or still runs or waits, past its deadline.</summary>
    public bool DeadlineMissed(DateTimeOffset now) => Deadline is { } deadline && (FinishedAt ?? now) > deadline && Status != JobStates.Cancelled;

    /// <summary>The job ended: its final status, why, the exit code when a process exited, and when.</summary>
    public JobRow Finished(string status, string reason, int? exitCode, DateTimeOffset at) =>
        this with { Status = status, Reason = reason, ExitCode = exitCode, FinishedAt = at, UpdatedAt = at };

    public Job ToMessage(DateTimeOffset now, double priority = 0)
    {
        var job = new Job
        {
            JobId = JobId.ToString(), Name = Name, Owner = Owner, SlaTier = SlaTier, Status = Status, Reason = Reason,
            CpuRequired = CpuMillis / 1000.0, MemoryRequired = MemoryMib, GpuRequired = GpuCount, EstimatedRuntimeSeconds = EstimatedRuntimeS,
            MaxRuntimeSeconds = MaxRuntimeS, DeadlineMs = Deadline?.ToUnixTimeMilliseconds() ?? 0, Driver = Driver, Command = Command,
            Image = Image, Preemptible = Preemptible, Attempts = Attempts, NodeId = NodeId?.ToString() ?? "", WorkloadId = WorkloadId?.ToString() ?? "",
            Priority = priority, SubmittedAtMs = SubmittedAt.ToUnixTimeMilliseconds(), StartedAtMs = StartedAt?.ToUnixTimeMilliseconds() ?? 0,
            FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0, UpdatedAtMs = UpdatedAt.ToUnixTimeMilliseconds(), DeadlineMissed = DeadlineMissed(now),
        };
        // Arguments may carry secrets: as Compute does with a workload's, they are written, never read back.
        job.Args.AddRange(Args.Select(_ => "(redacted)"));
        job.NodeSelector.Add(NodeSelector);
        job.Labels.Add(Labels);
        job.Affinity.Add(Affinity);
        job.AntiAffinity.Add(AntiAffinity);
        job.DependsOn.AddRange(DependsOn.Select(d => d.ToString()));
        if (ExitCode is { } code) job.ExitCode = code;
        return job;
    }
}
