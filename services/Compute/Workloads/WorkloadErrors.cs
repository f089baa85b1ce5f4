using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Workloads;

/// <summary>The action is not allowed in the workload's current state: 409, with the state and the actions it allows.</summary>
public sealed class WorkloadConflictException(WorkloadRecord workload, string action)
    : ConflictException("ACTION_NOT_ALLOWED", Describe(workload, action))
{
    public WorkloadRecord Workload { get; } = workload;

    public override IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["vm_state"] = Workload.VmState,
        ["task_state"] = Workload.TaskState,
        ["power_state"] = Workload.PowerState,
        ["allowed_actions"] = string.Join(",", WorkloadTransitions.AllowedActions(Workload.VmState, Workload.TaskState)),
    };

    static string Describe(WorkloadRecord workload, string action)
    {
        var allowed = WorkloadTransitions.AllowedActions(workload.VmState, workload.TaskState);
        var state = workload.TaskState == TaskStates.None ? workload.VmState : $"{workload.VmState} ({workload.TaskState})";
        return $"Cannot {action.Replace('_', ' ')} workload {workload.WorkloadId}: it is {state}. " +
            $"Allowed now: {(allowed.Count == 0 ? "nothing" : string.Join(", ", allowed))}.";
    }
}

/// <summary>The same idempotency key came with a different request: 409 ALREADY_EXISTS.</summary>
public sealed class IdempotencyMismatchException(string key)
    : DuplicateException("IDEMPOTENCY_KEY_REUSED", $"Idempotency key '{key}' was used before with a different request.");
