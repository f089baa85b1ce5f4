using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>A workload as stored in <c>compute.workloads</c>.</summary>
public sealed record WorkloadRecord(
    Guid WorkloadId, string Name, string Owner, Guid? NodeId, string Driver, string Image, string Command, string[] Args,
    Dictionary<string, string> Env, Dictionary<string, string> Labels, Dictionary<string, string> NodeSelector,
    int CpuMillis, long MemoryBytes, int GpuCount, string RestartPolicy,
    string VmState, string TaskState, string PowerState, string DesiredState, long RestartGeneration, bool RestartHard,
    long StopTimeoutMs, bool ForceStop, long Generation, int? Pid, int? ExitCode, int Restarts, string Message,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public Workload ToMessage()
    {
        var message = new Workload
        {
            WorkloadId = WorkloadId.ToString(), Name = Name, Owner = Owner, NodeId = NodeId?.ToString() ?? "", Driver = Driver,
            Command = Command, Image = Image, CpuMillis = CpuMillis, MemoryBytes = MemoryBytes, GpuCount = GpuCount,
            RestartPolicy = RestartPolicy, VmState = VmState, TaskState = TaskState, PowerState = PowerState, Pid = Pid ?? 0,
            Restarts = Restarts, Message = Message, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(), UpdatedAtMs = UpdatedAt.ToUnixTimeMilliseconds(),
            StartedAtMs = StartedAt?.ToUnixTimeMilliseconds() ?? 0, FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0, Generation = Generation,
        };
        if (ExitCode is { } code) message.ExitCode = code;
        message.Args.AddRange(Args);
        message.Env.Add(Env);
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
            RestartHard = RestartHard, StopTimeoutMs = StopTimeoutMs, ForceStop = ForceStop, Generation = Generation,
        };
        assignment.Args.AddRange(Args);
        assignment.Env.Add(Env);
        return assignment;
    }
}

/// <summary>An operation as stored in <c>compute.operations</c>.</summary>
public sealed record OperationRecord(
    Guid OperationId, Guid WorkloadId, string Action, string Status, string Error, string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public Operation ToMessage() => new()
    {
        OperationId = OperationId.ToString(), WorkloadId = WorkloadId.ToString(), Action = Action, Status = Status, Error = Error,
        RequestedBy = RequestedBy, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(), FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
    };
}

/// <summary>The action is not allowed in the workload's current state.</summary>
public sealed class WorkloadConflictException(WorkloadRecord workload, string action)
    : Exception($"Cannot {action.Replace('_', ' ')} workload {workload.WorkloadId}: it is {workload.VmState}{(workload.TaskState == "" ? "" : $" ({workload.TaskState})")}.")
{
    public WorkloadRecord Workload { get; } = workload;
}
