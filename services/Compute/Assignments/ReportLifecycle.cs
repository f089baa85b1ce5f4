using Platform.Compute.Migration;
using Platform.Compute.V1;
using Platform.Compute.Workloads;

namespace Platform.Compute.Assignments;

/// <summary>The agents' reports of their workloads: the store applies them, then each change's events go out.</summary>
public sealed class ReportLifecycle(AssignmentStore store, WorkloadEvents events, MigrationLifecycle migrations, TimeProvider clock, ILogger<ReportLifecycle> logger)
{
    public async Task ReportAsync(Guid nodeId, IEnumerable<WorkloadReport> reports, CancellationToken cancellationToken)
    {
        foreach (var (workload, finished) in await store.ApplyReportsAsync(nodeId, reports, clock.GetUtcNow(), cancellationToken))
        {
            if (finished is null)
            {
                await events.ChangedAsync(workload);
                continue;
            }
            logger.LogInformation("Workload {WorkloadId}: {Action} {Status}{Error}", workload.WorkloadId, finished.Action, finished.Status,
                finished.Error == "" ? "" : $" ({finished.Error})");
            await events.FinishedAsync(workload, finished);
            if (finished.Action == WorkloadTransitions.Migrate.Name) await migrations.SettledAsync(workload, finished, cancellationToken);
        }
    }
}
