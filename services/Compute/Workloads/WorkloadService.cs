using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.Nodes;
using Platform.Compute.V1;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Workloads;

/// <summary>The workload API (and the seeds' /api/vm/vms): create, read, update, delete and the power actions.</summary>
public sealed partial class WorkloadService(WorkloadLifecycle lifecycle, WorkloadStore store, NodeStore nodes, NodeAgentClients agents)
    : V1.Workloads.WorkloadsBase
{
    public static readonly string[] Drivers = ["process", "sandbox", "qemu"];
    public static readonly string[] RestartPolicies = ["never", "on-failure", "always"];

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<WorkloadOperation> CreateWorkload(CreateWorkloadRequest request, ServerCallContext context)
    {
        var normalized = Normalize(request);
        try
        {
            var (workload, operation) = await lifecycle.CreateAsync(normalized, context.Caller(), context.CancellationToken);
            return new WorkloadOperation { Workload = workload.ToMessage(), Operation = operation.ToMessage() };
        }
        catch (NoCapacityException ex)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.ResourceExhausted, ex.Message));
        }
        catch (IdempotencyMismatchException ex)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.AlreadyExists, ex.Message));
        }
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Workload> GetWorkload(WorkloadRequest request, ServerCallContext context) =>
        (await store.GetAsync(RequestValidation.RequireGuid(request.WorkloadId, "workload_id"), context.CancellationToken) ?? throw NotFound(request.WorkloadId)).ToMessage();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListWorkloadsResponse> ListWorkloads(ListWorkloadsRequest request, ServerCallContext context)
    {
        new RequestValidation()
            .Require(request.NodeId == "" || Guid.TryParse(request.NodeId, out _), "node_id", "must be a UUID")
            .Require(request.Label == "" || request.Label.Contains('='), "label", "must be label=value")
            .ThrowIfInvalid();
        var response = new ListWorkloadsResponse();
        response.Workloads.AddRange((await store.ListAsync(request, context.CancellationToken)).Select(w => w.ToMessage()));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> UpdateWorkload(UpdateWorkloadRequest request, ServerCallContext context)
    {
        new RequestValidation()
            .Require(request.Name == "" || WorkloadName().IsMatch(request.Name), "name", "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
            .Require(request.RestartPolicy == "" || RestartPolicies.Contains(request.RestartPolicy), "restart_policy", "must be never, on-failure or always")
            .Require(ValidLabels(request.Labels), "labels", LabelRule)
            .ThrowIfInvalid();
        return ActAsync(request.WorkloadId, WorkloadTransitions.Update, context,
            "name = coalesce(nullif($3, ''), name), restart_policy = coalesce(nullif($4, ''), restart_policy), labels = CASE WHEN $5 THEN $6::jsonb ELSE labels END",
            request.Name, request.RestartPolicy, request.ReplaceLabels, System.Text.Json.JsonSerializer.Serialize(request.Labels.ToDictionary()));
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> DeleteWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Delete, context);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> StartWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Start, context, "force_stop = false");

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> StopWorkload(StopWorkloadRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.TimeoutMs is >= 0 and <= 3_600_000, "timeout_ms", "must be between 0 and 3600000 (one hour)").ThrowIfInvalid();
        return ActAsync(request.WorkloadId, WorkloadTransitions.Stop, context, "stop_timeout_ms = $3, force_stop = false", request.TimeoutMs == 0 ? 10_000L : request.TimeoutMs);
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> ForceStopWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.ForceStop, context, "force_stop = true");

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> RestartWorkload(RestartWorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, request.Hard ? WorkloadTransitions.RestartHard : WorkloadTransitions.Restart, context,
            "restart_generation = restart_generation + 1, restart_hard = $3, force_stop = false", request.Hard);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> PauseWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Pause, context);

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override Task<WorkloadOperation> ResumeWorkload(WorkloadRequest request, ServerCallContext context) =>
        ActAsync(request.WorkloadId, WorkloadTransitions.Resume, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<WorkloadLog> GetWorkloadLogs(ReadWorkloadLogRequest request, ServerCallContext context)
    {
        var workload = await store.GetAsync(RequestValidation.RequireGuid(request.WorkloadId, "workload_id"), context.CancellationToken) ?? throw NotFound(request.WorkloadId);
        var node = workload.NodeId is { } nodeId ? await nodes.GetAsync(nodeId, context.CancellationToken) : null;
        if (node is null || workload.VmState == "deleted")
            throw new RpcException(new Grpc.Core.Status(StatusCode.FailedPrecondition, $"Workload {workload.WorkloadId} is {workload.VmState} and on no node: its logs went with it."));
        return await agents.CallAsync(node, (client, options) => client.ReadWorkloadLogAsync(request, options), context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Operation> GetOperation(GetOperationRequest request, ServerCallContext context) =>
        (await store.OperationAsync(RequestValidation.RequireGuid(request.OperationId, "operation_id"), context.CancellationToken)
            ?? throw new RpcException(new Grpc.Core.Status(StatusCode.NotFound, $"Operation {request.OperationId} does not exist."))).ToMessage();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListOperationsResponse> ListOperations(WorkloadRequest request, ServerCallContext context)
    {
        var workloadId = RequestValidation.RequireGuid(request.WorkloadId, "workload_id");
        _ = await store.GetAsync(workloadId, context.CancellationToken) ?? throw NotFound(request.WorkloadId);
        var response = new ListOperationsResponse();
        response.Operations.AddRange((await store.OperationsAsync(workloadId, context.CancellationToken)).Select(o => o.ToMessage()));
        return response;
    }

    async Task<WorkloadOperation> ActAsync(string id, WorkloadAction action, ServerCallContext context, string change = "", params object[] parameters)
    {
        var workloadId = RequestValidation.RequireGuid(id, "workload_id");
        try
        {
            var (workload, operation) = await lifecycle.ActAsync(workloadId, action, context.Caller(), context.CancellationToken, change, parameters)
                ?? throw NotFound(id);
            return new WorkloadOperation { Workload = workload.ToMessage(), Operation = operation.ToMessage() };
        }
        catch (WorkloadConflictException ex)
        {
            throw Conflict(ex);
        }
    }

    /// <summary>ABORTED (409) with the current state and what it allows, as a google.rpc.ErrorInfo.</summary>
    internal static RpcException Conflict(WorkloadConflictException ex)
    {
        var allowed = WorkloadTransitions.AllowedActions(ex.Workload.VmState, ex.Workload.TaskState);
        var info = new ErrorInfo
        {
            Reason = "ACTION_NOT_ALLOWED",
            Domain = "compute.platform",
            Metadata =
            {
                ["vm_state"] = ex.Workload.VmState,
                ["task_state"] = ex.Workload.TaskState,
                ["power_state"] = ex.Workload.PowerState,
                ["allowed_actions"] = string.Join(",", allowed),
            },
        };
        return new Google.Rpc.Status
        {
            Code = (int)Code.Aborted,
            Message = $"{ex.Message} Allowed now: {(allowed.Count == 0 ? "nothing" : string.Join(", ", allowed))}.",
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(info) },
        }.ToRpcException();
    }

    static RpcException NotFound(string id) => new(new Grpc.Core.Status(StatusCode.NotFound, $"Workload {id} does not exist."));


    /// <summary>Fills the defaults and throws InvalidArgument naming every bad field.</summary>
    public static CreateWorkloadRequest Normalize(CreateWorkloadRequest request)
    {
        var n = request.Clone();
        if (n.Driver == "") n.Driver = "process";
        if (n.CpuMillis == 0) n.CpuMillis = 1000;
        if (n.MemoryBytes == 0) n.MemoryBytes = 256L << 20;
        if (n.RestartPolicy == "") n.RestartPolicy = "never";
        if (n.Name == "") n.Name = $"{n.Driver}-{Guid.NewGuid().ToString("N")[..8]}";
        new RequestValidation()
            .Require(WorkloadName().IsMatch(n.Name), "name", "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
            .Require(Drivers.Contains(n.Driver), "driver", "must be process, sandbox or qemu")
            .Require(n.Driver == "qemu" || n.Command.Length is > 0 and <= 4096, "command", "is required for the process and sandbox drivers (at most 4096 characters)")
            .Require(n.Driver != "qemu" || n.Image.Length is > 0 and <= 4096, "image", "is required for the qemu driver")
            .Require(n.Args.Count <= 256 && n.Args.All(a => a.Length <= 4096), "args", "at most 256, each up to 4096 characters")
            .Require(n.Env.Count <= 128 && n.Env.Keys.All(EnvName().IsMatch), "env", "at most 128 variables with names of letters, digits and '_' not starting with a digit")
            .Require(n.CpuMillis is > 0 and <= 1_000_000, "cpu_millis", "must be between 1 and 1000000")
            .Require(n.MemoryBytes >= 1 << 20, "memory_bytes", "must be at least 1 MiB (1048576)")
            .Require(n.GpuCount is >= 0 and <= 64, "gpu_count", "must be between 0 and 64")
            .Require(n.NodeId == "" || Guid.TryParse(n.NodeId, out _), "node_id", "must be a UUID")
            .Require(n.NodeSelector.Count <= 32, "node_selector", "at most 32 labels")
            .Require(RestartPolicies.Contains(n.RestartPolicy), "restart_policy", "must be never, on-failure or always")
            .Require(ValidLabels(n.Labels), "labels", LabelRule)
            .Require(n.IdempotencyKey.Length <= 128, "idempotency_key", "at most 128 characters")
            .ThrowIfInvalid();
        return n;
    }

    const string LabelRule = "at most 64 labels; keys 1-63 characters, values up to 256";

    static bool ValidLabels(Google.Protobuf.Collections.MapField<string, string> labels) =>
        labels.Count <= 64 && labels.All(l => l.Key.Length is > 0 and <= 63 && l.Value.Length <= 256);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$")]
    private static partial Regex WorkloadName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvName();
}
