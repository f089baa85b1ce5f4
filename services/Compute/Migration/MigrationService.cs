using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Migration;

/// <summary>The migration API: migrate a workload to another node, follow the migration, abort it.</summary>
public sealed class MigrationService(MigrationLifecycle lifecycle, MigrationStore store, WorkloadStore workloads, NodeStore nodes) : Migrations.MigrationsBase
{
    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<MigrationOperation> MigrateWorkload(MigrateWorkloadRequest request, ServerCallContext context)
    {
        var plan = MigrationRequests.Normalize(request);
        var workload = await workloads.GetAsync(plan.WorkloadId, context.CancellationToken) ?? throw NotFound("Workload", request.WorkloadId);
        if (plan.Type == "live") await RequireLiveMigrationAsync(workload, plan.TargetNodeId, context.CancellationToken);
        var begun = await lifecycle.BeginAsync(plan.WorkloadId, plan.TargetNodeId, plan.Type, plan.CompressionLevel, plan.BandwidthLimit,
                context.Caller(), context.CancellationToken)
            ?? throw NotFound("Workload", request.WorkloadId);
        return new MigrationOperation { Migration = begun.Migration.ToMessage(), Workload = begun.Workload.ToMessage(), Operation = begun.Operation.ToMessage() };
    }

    /// <summary>Live migration needs CRIU working on both nodes, as their agents fingerprinted it for the workload's driver.</summary>
    async Task RequireLiveMigrationAsync(WorkloadRecord workload, Guid? target, CancellationToken cancellationToken)
    {
        foreach (var nodeId in new[] { workload.NodeId, target }.OfType<Guid>())
        {
            var node = await nodes.GetAsync(nodeId, cancellationToken) ?? throw NotFound("Node", nodeId.ToString());
            var driver = node.Drivers?.FirstOrDefault(d => d.Name == workload.Driver);
            var live = driver?.Attributes.GetValueOrDefault("live_migration") ?? "not fingerprinted by this agent";
            if (live != "criu")
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"Live migration is not possible: on node {node.Name} the {workload.Driver} driver reports {live}. Use a cold or warm migration."));
        }
        if (target is null)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "A live migration needs a target_node_id whose agent fingerprints CRIU as working."));
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<V1.Migration> GetMigration(MigrationRequest request, ServerCallContext context) =>
        (await store.GetAsync(RequestValidation.RequireGuid(request.MigrationId, "migration_id"), context.CancellationToken)
            ?? throw NotFound("Migration", request.MigrationId)).ToMessage();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListMigrationsResponse> ListMigrations(ListMigrationsRequest request, ServerCallContext context)
    {
        Guid? workloadId = request.WorkloadId == "" ? null : RequestValidation.RequireGuid(request.WorkloadId, "workload_id");
        var response = new ListMigrationsResponse();
        response.Migrations.AddRange((await store.ListAsync(workloadId, request.ActiveOnly, context.CancellationToken)).Select(m => m.ToMessage()));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<MigrationOperation> AbortMigration(MigrationRequest request, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        var (migration, workload, finished) = await lifecycle.AbortAsync(migrationId, context.Caller(), context.CancellationToken)
            ?? throw NotFound("Migration", request.MigrationId);
        var response = new MigrationOperation { Migration = migration.ToMessage(), Workload = workload.ToMessage() };
        if (finished is not null) response.Operation = finished.ToMessage();
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task WatchMigration(MigrationRequest request, IServerStreamWriter<V1.Migration> responseStream, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        DateTimeOffset? sent = null;
        while (!context.CancellationToken.IsCancellationRequested)
        {
            var migration = await store.GetAsync(migrationId, context.CancellationToken) ?? throw NotFound("Migration", request.MigrationId);
            if (migration.UpdatedAt != sent)
            {
                await responseStream.WriteAsync(migration.ToMessage(), context.CancellationToken);
                sent = migration.UpdatedAt;
            }
            if (!migration.Active) return;
            await Task.Delay(TimeSpan.FromMilliseconds(250), context.CancellationToken);
        }
    }

    static RpcException NotFound(string what, string id) => new(new Status(StatusCode.NotFound, $"{what} {id} does not exist."));
}
