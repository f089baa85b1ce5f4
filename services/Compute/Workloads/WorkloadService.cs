using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Workloads;

/// <summary>
/// The workload API (and the seeds' /api/vm/vms): create, read, update, delete and the power actions. The rules are
/// <see cref="WorkloadRequests"/>'; conflicts and capacity errors map to statuses in one interceptor.
/// </summary>
public sealed class WorkloadService(WorkloadLifecycle lifecycle, WorkloadStore store, NodeStore nodes, NodeAgentClients agents)
    : V1.Workloads.WorkloadsBase
{
    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<WorkloadOperation> CreateWorkload(CreateWorkloadRequest request, ServerCallContext context)
    {
        if (request.Driver == "benchmark")
            throw new InvalidFieldException("driver", "benchmark workloads are started by POST /api/benchmarks/start, not created directly");
        var (workload, operation) = await lifecycle.CreateAsync(WorkloadRequests.Normalize(request), context.Caller(), context.CancellationToken);
        return new WorkloadOperation { Workload = workload.ToMessage(), Operation = operation.ToMessage() };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Workload> GetWorkload(WorkloadRequest request, ServerCallContext context) =>
        (await FindAsync(request.WorkloadId, context)).ToMessage();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<WorkloadStats> GetWorkloadStats(GetWorkloadStatsRequest request, ServerCallContext context)
    {
        var rows = await store.CountAsync(context.CancellationToken);
        var stats = new WorkloadStats { Total = (int)rows.Sum(r => r.Count), Running = (int)rows.Where(r => r.PowerState == "running").Sum(r => r.Count) };
        foreach (var group in rows.GroupBy(r => r.VmState)) stats.ByState[group.Key] = (int)group.Sum(r => r.Count);
        foreach (var group in rows.GroupBy(r => r.Driver)) stats.ByDriver[group.Key] = (int)group.Sum(r => r.Count);
        return stats;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListWorkloadsResponse> ListWorkloads(ListWorkloadsRequest request, ServerCallContext context)
    {
        WorkloadRequests.Validate(request);
        var response = new ListWorkloadsResponse();
        response.Workloads.AddRange((await store.ListAsync(request, context.CancellationToken)).Select(w => w.ToMessage()));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> UpdateWorkload(UpdateWorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Update, context, WorkloadRequests.Change(request));

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> DeleteWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Delete, context);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> StartWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Start, context, new WorkloadChange { ForceStop = false });

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> StopWorkload(StopWorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Stop, context, WorkloadRequests.Change(request));

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> ForceStopWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.ForceStop, context, new WorkloadChange { ForceStop = true });

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> RestartWorkload(RestartWorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, request.Hard ? WorkloadTransitions.RestartHard : WorkloadTransitions.Restart, context,
            new WorkloadChange { NextRestart = true, RestartHard = request.Hard, ForceStop = false });

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> PauseWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Pause, context);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> ResumeWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Resume, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<WorkloadLog> GetWorkloadLogs(ReadWorkloadLogRequest request, ServerCallContext context)
    {
        var workload = await FindAsync(request.WorkloadId, context);
        var node = workload.NodeId is { } nodeId ? await nodes.GetAsync(nodeId, context.CancellationToken) : null;
        if (node is null || workload.VmState == VmStates.Deleted)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Workload {workload.WorkloadId} is {workload.VmState} and on no node: its logs went with it."));
        return await agents.CallAsync(node, (client, options) => client.ReadWorkloadLogAsync(request, options), context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Operation> GetOperation(GetOperationRequest request, ServerCallContext context) =>
        (await store.OperationAsync(RequestValidation.RequireGuid(request.OperationId, "operation_id"), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Operation {request.OperationId} does not exist."))).ToMessage();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListOperationsResponse> ListOperations(WorkloadRequest request, ServerCallContext context)
    {
        var workload = await FindAsync(request.WorkloadId, context);
        var response = new ListOperationsResponse();
        response.Operations.AddRange((await store.OperationsAsync(workload.WorkloadId, context.CancellationToken)).Select(o => o.ToMessage()));
        return response;
    }

    async Task<WorkloadOperation> ActAsync(string id, WorkloadAction action, ServerCallContext context, WorkloadChange? change = null)
    {
        var workloadId = RequestValidation.RequireGuid(id, "workload_id");
        var (workload, operation) = await lifecycle.ActAsync(workloadId, action, context.Caller(), context.CancellationToken, change)
            ?? throw NotFound(id);
        return new WorkloadOperation { Workload = workload.ToMessage(), Operation = operation.ToMessage() };
    }

    async Task<WorkloadRecord> FindAsync(string id, ServerCallContext context) =>
        await store.GetAsync(RequestValidation.RequireGuid(id, "workload_id"), context.CancellationToken) ?? throw NotFound(id);

    static RpcException NotFound(string id) => new(new Status(StatusCode.NotFound, $"Workload {id} does not exist."));
}
