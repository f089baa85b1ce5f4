using Platform.Compute.Migration;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.Compute.Workloads;

namespace Platform.Compute.Evacuation;

/// <summary>
/// The workloads' answer to their node going Down or draining: those whose restart policy allows it are placed on
/// other nodes; the others are lost (and come back if the node does) or stopped. A workload handed over to a Down node
/// by a migration goes back to its source.
/// </summary>
public sealed class WorkloadEvacuation(
    EvacuationStore store, WorkloadStore workloads, WorkloadLifecycle lifecycle, MigrationLifecycle migrations, WorkloadEvents events,
    TimeProvider clock, ILogger<WorkloadEvacuation> logger) : INodeEvacuation
{
    public async Task NodeDownAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        foreach (var workload in await workloads.OnNodeAsync(nodeId, cancellationToken))
        {
            if (workload.VmState == VmStates.Lost) continue;
            if (workload.TaskState == TaskStates.Migrating && await migrations.ReturnFromDownTargetAsync(workload.WorkloadId, nodeId, cancellationToken))
                continue;
            if (workload.RestartPolicy == RestartPolicies.Never || workload.DesiredState != DesiredStates.Running)
            {
                if (await store.MarkLostAsync(workload.WorkloadId, clock.GetUtcNow(), cancellationToken) is { } lost)
                {
                    logger.LogWarning("Workload {WorkloadId} is lost: node {NodeId} is down", workload.WorkloadId, nodeId);
                    await events.ChangedAsync(lost);
                }
            }
            else await RescheduleAsync(workload.WorkloadId, "its node is down", VmStates.Lost, cancellationToken);
        }
    }

    public async Task<(IReadOnlyList<string> Moved, IReadOnlyList<string> Stopped)> DrainAsync(Guid nodeId, string requestedBy, CancellationToken cancellationToken)
    {
        var (moved, stopped) = (new List<string>(), new List<string>());
        foreach (var workload in await workloads.OnNodeAsync(nodeId, cancellationToken))
        {
            if (workload.RestartPolicy != RestartPolicies.Never && workload.DesiredState == DesiredStates.Running
                && await RescheduleAsync(workload.WorkloadId, "its node is draining", workload.VmState, cancellationToken) is { } placed
                && placed.NodeId != nodeId)
            {
                moved.Add(workload.WorkloadId.ToString());
                continue;
            }
            if (WorkloadTransitions.Allows(WorkloadTransitions.Stop, workload.VmState, workload.TaskState))
                await lifecycle.ActAsync(workload.WorkloadId, WorkloadTransitions.Stop, requestedBy, cancellationToken);
            stopped.Add(workload.WorkloadId.ToString());
        }
        return (moved, stopped);
    }

    async Task<WorkloadRecord?> RescheduleAsync(Guid workloadId, string reason, string stuckState, CancellationToken cancellationToken)
    {
        if (await store.RescheduleAsync(workloadId, reason, stuckState, clock.GetUtcNow(), cancellationToken) is not { } result) return null;
        var failed = result.Operation.Status == OperationStatuses.Failed;
        logger.LogWarning("Workload {WorkloadId} rescheduled ({Reason}): {Outcome}", workloadId, reason,
            failed ? result.Operation.Error : $"now on node {result.Workload.NodeId}");
        if (failed) await events.FinishedAsync(result.Workload, result.Operation);
        else await events.AcceptedAsync(result.Workload, result.Operation, result.From);
        return result.Workload;
    }
}
