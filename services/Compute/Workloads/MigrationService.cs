using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Workloads;

/// <summary>The migration API: migrate a workload to another node, follow the migration, abort it.</summary>
public sealed class MigrationService(MigrationLifecycle lifecycle, WorkloadStore store, NodeStore nodes) : Migrations.MigrationsBase
{
    const long MinimumBandwidth = 64 * 1024;

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<MigrationOperation> MigrateWorkload(MigrateWorkloadRequest request, ServerCallContext context)
    {
        var workloadId = RequestValidation.RequireGuid(request.WorkloadId, "workload_id");
        var type = request.Type == "" ? "cold" : request.Type;
        var level = request.CompressionLevel == 0 ? 3 : request.CompressionLevel;
        new RequestValidation()
            .Require(request.TargetNodeId == "" || Guid.TryParse(request.TargetNodeId, out _), "target_node_id", "must be a UUID (or empty for the best-fitting node)")
            .Require(MigrationRecord.Types.Contains(type), "type", "must be cold, warm or live")
            .Require(level is >= 1 and <= 19, "compression_level", "must be a zstd level between 1 and 19")
            .Require(request.BandwidthLimitBytesPerSecond == 0 || request.BandwidthLimitBytesPerSecond >= MinimumBandwidth,
                "bandwidth_limit_bytes_per_second", $"must be 0 (unlimited) or at least {MinimumBandwidth}")
            .ThrowIfInvalid();
        Guid? target = request.TargetNodeId == "" ? null : Guid.Parse(request.TargetNodeId);
        var workload = await store.GetAsync(workloadId, context.CancellationToken) ?? throw NotFound("Workload", request.WorkloadId);
        if (type == "live") await RequireLiveMigrationAsync(workload, target, context.CancellationToken);
        try
        {
            var begun = await lifecycle.BeginAsync(workloadId, target, type, level, request.BandwidthLimitBytesPerSecond, context.Caller(), context.CancellationToken)
                ?? throw NotFound("Workload", request.WorkloadId);
            return new MigrationOperation { Migration = begun.Migration.ToMessage(), Workload = begun.Workload.ToMessage(), Operation = begun.Operation.ToMessage() };
        }
        catch (WorkloadConflictException ex)
        {
            throw WorkloadService.Conflict(ex);
        }
        catch (MigrationConflictException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (NoCapacityException ex)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, ex.Message));
        }
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
    public override async Task<Migration> GetMigration(MigrationRequest request, ServerCallContext context) =>
        (await store.GetMigrationAsync(RequestValidation.RequireGuid(request.MigrationId, "migration_id"), context.CancellationToken)
            ?? throw NotFound("Migration", request.MigrationId)).ToMessage();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListMigrationsResponse> ListMigrations(ListMigrationsRequest request, ServerCallContext context)
    {
        Guid? workloadId = request.WorkloadId == "" ? null : RequestValidation.RequireGuid(request.WorkloadId, "workload_id");
        var response = new ListMigrationsResponse();
        response.Migrations.AddRange((await store.ListMigrationsAsync(workloadId, request.ActiveOnly, context.CancellationToken)).Select(m => m.ToMessage()));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<MigrationOperation> AbortMigration(MigrationRequest request, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        try
        {
            var (migration, workload, finished) = await lifecycle.AbortAsync(migrationId, context.Caller(), context.CancellationToken)
                ?? throw NotFound("Migration", request.MigrationId);
            var response = new MigrationOperation { Migration = migration.ToMessage(), Workload = workload.ToMessage() };
            if (finished is not null) response.Operation = finished.ToMessage();
            return response;
        }
        catch (MigrationConflictException ex)
        {
            throw new RpcException(new Status(StatusCode.Aborted, ex.Message));
        }
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task WatchMigration(MigrationRequest request, IServerStreamWriter<Migration> responseStream, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        DateTimeOffset? sent = null;
        while (!context.CancellationToken.IsCancellationRequested)
        {
            var migration = await store.GetMigrationAsync(migrationId, context.CancellationToken) ?? throw NotFound("Migration", request.MigrationId);
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
