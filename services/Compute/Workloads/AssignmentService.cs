using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Workloads;

/// <summary>The agents' side: what their node should run, a stream that says when that changed, and their reports.</summary>
public sealed class AssignmentService(WorkloadStore store, WorkloadLifecycle lifecycle, MigrationLifecycle migrations, NodeStore nodes, AssignmentSignals signals)
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
        await lifecycle.ReportAsync(nodeId, request.Reports, context.CancellationToken);
        return new ReportWorkloadsResponse();
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<MigrationReportResponse> ReportMigration(MigrationReport request, ServerCallContext context)
    {
        var nodeId = await KnownNodeAsync(request.NodeId, context);
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        new RequestValidation()
            .Require(request.Phase is "started" or "precopy" or "final-copy" or "handover" or "failed", "phase", "must be started, precopy, final-copy, handover or failed")
            .Require(request.BytesTotal >= 0 && request.BytesSent >= 0 && request.Rounds >= 0, "bytes_total", "counters cannot be negative")
            .ThrowIfInvalid();
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
        if (node.Admission == "rejected")
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Node {node.Name} was rejected by an operator."));
        return nodeId;
    }
}
