using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>A workload as stored in <c>compute.workloads</c>, mapped by column name.</summary>
public sealed record WorkloadRecord
{
    public Guid WorkloadId { get; init; }
    public string Name { get; init; } = "";
    public string Owner { get; init; } = "";
    public Guid? NodeId { get; init; }
    public string Driver { get; init; } = "";
    public string Image { get; init; } = "";
    public string Command { get; init; } = "";
    public string[] Args { get; init; } = [];
    public Dictionary<string, string> Env { get; init; } = [];
    public Dictionary<string, string> Labels { get; init; } = [];
    public Dictionary<string, string> NodeSelector { get; init; } = [];
    public int CpuMillis { get; init; }
    public long MemoryBytes { get; init; }
    public int GpuCount { get; init; }
    public string RestartPolicy { get; init; } = "";
    public string Network { get; init; } = "";
    public string VmState { get; init; } = "";
    public string TaskState { get; init; } = "";
    public string PowerState { get; init; } = "";
    public string DesiredState { get; init; } = "";
    public long RestartGeneration { get; init; }
    public bool RestartHard { get; init; }
    public long StopTimeoutMs { get; init; }
    public bool ForceStop { get; init; }
    public long Generation { get; init; }
    public int? Pid { get; init; }
    public int? ExitCode { get; init; }
    public int Restarts { get; init; }
    public string Message { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public const string Redacted = "(redacted)";

    public Workload ToMessage()
    {
        var message = new Workload
        {
            WorkloadId = WorkloadId.ToString(), Name = Name, Owner = Owner, NodeId = NodeId?.ToString() ?? "", Driver = Driver,
            Command = Command, Image = Image, CpuMillis = CpuMillis, MemoryBytes = MemoryBytes, GpuCount = GpuCount,
            RestartPolicy = RestartPolicy, Network = Network, VmState = VmState, TaskState = TaskState, PowerState = PowerState, Pid = Pid ?? 0,
            Restarts = Restarts, Message = Message, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(), UpdatedAtMs = UpdatedAt.ToUnixTimeMilliseconds(),
            StartedAtMs = StartedAt?.ToUnixTimeMilliseconds() ?? 0, FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0, Generation = Generation,
        };
        if (ExitCode is { } code) message.ExitCode = code;
        // Arguments and environment may hold secrets: they are written, never read back (only the agent that runs the
        // workload receives them, in its assignment). Each argument and each variable's value reads as redacted.
        message.Args.AddRange(Args.Select(_ => Redacted));
        message.Env.Add(Env.ToDictionary(variable => variable.Key, _ => Redacted));
        message.Labels.Add(Labels);
        message.NodeSelector.Add(NodeSelector);
        message.AllowedActions.AddRange(WorkloadTransitions.AllowedActions(VmState, TaskState));
        return message;
    }

    public Assignment ToAssignment()
    {
        var assignment = new Assignment
        {
            WorkloadId = WorkloadId.ToString(), Name = Name, Driver = Driver, Command = Command, Image = Image, CpuMillis = CpuMillis,
            MemoryBytes = MemoryBytes, RestartPolicy = RestartPolicy, DesiredState = DesiredState, RestartGeneration = RestartGeneration,
            RestartHard = RestartHard, StopTimeoutMs = StopTimeoutMs, ForceStop = ForceStop, Generation = Generation, Network = Network,
        };
        assignment.Args.AddRange(Args);
        assignment.Env.Add(Env);
        return assignment;
    }

    /// <summary>What placing this workload again needs (another node, a migration's target).</summary>
    public CreateWorkloadRequest Needs(Guid? on = null) => new()
    {
        Driver = Driver, CpuMillis = CpuMillis, MemoryBytes = MemoryBytes, GpuCount = GpuCount, NodeSelector = { NodeSelector },
        NodeId = on?.ToString() ?? "",
    };
}

/// <summary>An operation as stored in <c>compute.operations</c>.</summary>
public sealed record OperationRecord
{
    public Guid OperationId { get; init; }
    public Guid WorkloadId { get; init; }
    public string Action { get; init; } = "";
    public string Status { get; init; } = "";
    public string Error { get; init; } = "";
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    public Operation ToMessage() => new()
    {
        OperationId = OperationId.ToString(), WorkloadId = WorkloadId.ToString(), Action = Action, Status = Status, Error = Error,
        RequestedBy = RequestedBy, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(), FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
    };
}
