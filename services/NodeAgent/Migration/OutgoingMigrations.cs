using System.Collections.Concurrent;
using Platform.Compute.V1;

namespace Platform.NodeAgent.Migration;

/// <summary>
/// The migrations this agent sends, one run per workload: started when Compute orders one (again after an agent
/// restart: the run resumes), ended when Compute ends it. The supervisor knows only this narrow surface: <see cref="Ensure"/>,
/// <see cref="EndAsync"/> and <see cref="IsSending"/>; stopping the workload for the final copy is its callback.
/// </summary>
public sealed class OutgoingMigrations(MigrationRunner runner, ILogger<OutgoingMigrations> logger)
{
    sealed record Run(string MigrationId, Task Task, CancellationTokenSource Cancel);

    readonly ConcurrentDictionary<string, Run> runs = new();

    /// <summary>The migration this agent is sending the workload away in, if any.</summary>
    public string? IsSending(string workloadId) => runs.TryGetValue(workloadId, out var run) ? run.MigrationId : null;

    /// <summary>
    /// Starts sending the workload in <paramref name="folder"/> as <paramref name="order"/> says, unless that run is under
    /// way. <paramref name="stop"/> stops it for the final copy (<c>live</c>: checkpoints it) and says when it stopped.
    /// </summary>
    public void Ensure(string workloadId, string name, string folder, MigrationOrder order, Func<bool, CancellationToken, Task<DateTimeOffset>> stop)
    {
        if (runs.TryGetValue(workloadId, out var current) && current.MigrationId == order.MigrationId && !current.Task.IsCompleted) return;
        var cancel = new CancellationTokenSource();
        var live = order.Type == "live";
        var task = Task.Run(() => runner.RunAsync(folder, order, token => stop(live, token), cancel.Token), CancellationToken.None);
        runs[workloadId] = new Run(order.MigrationId, task, cancel);
        logger.LogInformation("Migrating workload {WorkloadName} ({WorkloadId}) to node {TargetNodeId}: {Type}, migration {MigrationId}",
            name, workloadId, order.TargetNodeId, order.Type, order.MigrationId);
    }

    /// <summary>Compute ended the migration (aborted, failed) or the workload leaves: the run stops sending before anything else happens to it.</summary>
    public async Task EndAsync(string workloadId)
    {
        if (!runs.TryRemove(workloadId, out var run)) return;
        await run.Cancel.CancelAsync();
        await run.Task.ContinueWith(_ => { }, TaskScheduler.Default);
        run.Cancel.Dispose();
    }
}
