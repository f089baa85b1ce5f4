using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.Migration;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Assignments;

/// <summary>The agents' side: what their node should run, a stream that says when that changed, and their reports.</summary>
public sealed class AssignmentService(
    AssignmentStore store, ReportLifecycle reports, MigrationLifecycle migrations, MigrationStore migrationRecords, NodeStore nodes, AssignmentSignals signals)
    : WorkloadAssignments.WorkloadAssignmentsBase
{
    static readonly TimeSpan ReadAgainAfter = TimeSpan.FromMinutes(1);
    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<ListAssignmentsResponse> ListAssignments(ListAssignmentsRequest request, ServerCallContext context)
    {
        var nodeId = await KnownNodeAsync(request.NodeId, context);
        var response = new ListAssignmentsResponse();
        response.Assignments.AddRange(await store.AssignmentsAsync(nodeId, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task WatchAssignments(ListAssignmentsRequest request, IServerStreamWriter<AssignmentsChanged> responseStream, ServerCallContext context)
    {
        var nodeId = await KnownNodeAsync(request.NodeId, context);
        try
        {
            while (!context.CancellationToken.IsCancellationRequested)
            {
                // Taken before the message goes out: a change committed after this wakes the loop again.
                var next = signals.NextChange(nodeId);
                await responseStream.WriteAsync(new AssignmentsChanged(), context.CancellationToken);
                // A change published while this replica's Redis subscription was away is never heard: at worst
                // the agent reads its assignments again a minute later.
                try { await next.WaitAsync(ReadAgainAfter, context.CancellationToken); }
                catch (TimeoutException) { }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<ReportWorkloadsResponse> ReportWorkloads(ReportWorkloadsRequest request, ServerCallContext context)
    {
        var nodeId = await KnownNodeAsync(request.NodeId, context);
        await reports.ReportAsync(nodeId, request.Reports, context.CancellationToken);
        return new ReportWorkloadsResponse();
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<MigrationReportResponse> ReportMigration(MigrationReport request, ServerCallContext context)
    {
        var nodeId = await KnownNodeAsync(request.NodeId, context);
        var migrationId = MigrationRequests.Validate(request);
        var migration = await migrations.ReportAsync(nodeId, migrationId, request, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Migration {migrationId} does not exist."));
        return new MigrationReportResponse { Phase = migration.Phase, BytesSent = migration.BytesSent, BytesSaved = migration.BytesSaved, Rounds = migration.Rounds };
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<IncomingMigration> GetIncomingMigration(GetIncomingMigrationRequest request, ServerCallContext context)
    {
        var nodeId = await KnownNodeAsync(request.NodeId, context);
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        if (await migrationRecords.GetAsync(migrationId, context.CancellationToken) is not { } migration || migration.TargetNodeId != nodeId
            || await nodes.GetAsync(migration.SourceNodeId, context.CancellationToken) is not { } source)
            throw new RpcException(new Status(StatusCode.NotFound, $"No migration {migrationId} targets this node."));
        return new IncomingMigration { MigrationId = migrationId.ToString(), SourceNodeName = source.Name, Phase = migration.Phase, Finished = migration.FinishedAt is not null };
    }

    async Task<Guid> KnownNodeAsync(string id, ServerCallContext context)
    {
        var nodeId = RequestValidation.RequireGuid(id, "node_id");
        var node = await nodes.GetAsync(nodeId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Node {nodeId} is not registered."));
        AgentBinding.EnsureActsFor(context, node.Name);
        if (node.Admission == NodeAdmissions.Rejected)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Node {node.Name} was rejected by an operator."));
        return nodeId;
    }
}
