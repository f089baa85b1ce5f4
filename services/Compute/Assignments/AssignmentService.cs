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
public sealed class AssignmentService(AssignmentStore store, ReportLifecycle reports, MigrationLifecycle migrations, NodeStore nodes, AssignmentSignals signals)
    : WorkloadAssignments.WorkloadAssignmentsBase
{
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
                await next.WaitAsync(context.CancellationToken);
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
