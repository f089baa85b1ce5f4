using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Sessions;

/// <summary>Sessions run as workloads within per-user quotas; pausing, resuming and terminating act on their workload.</summary>
public sealed class SessionService(SessionStore store, WorkloadLifecycle workloads, IOptions<SessionOptions> options, TimeProvider clock)
    : V1.Sessions.SessionsBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Session> CreateSession(CreateSessionRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var normalized = Normalize(request, caller, context);
        var sessionId = Guid.NewGuid();
        var workload = WorkloadRequests.Normalize(new CreateWorkloadRequest
        {
            Name = $"session-{sessionId.ToString("N")[..8]}", Driver = "process", Command = normalized.Command, Args = { normalized.Args },
            CpuMillis = normalized.CpuCores * 1000, GpuCount = normalized.GpuUnits, MemoryBytes = normalized.MemoryBytes, NodeId = normalized.NodeId,
            Labels = { ["session_id"] = sessionId.ToString(), ["application"] = normalized.Application, ["user"] = normalized.User },
        });
        await workloads.CreateAsync(workload, caller, context.CancellationToken, (transaction, workloadId) =>
            SessionStore.RecordWithinQuotaAsync(transaction, sessionId, workloadId, normalized, options.Value.DefaultQuota, clock.GetUtcNow(), context.CancellationToken));
        return (await store.GetAsync(sessionId, context.CancellationToken))!;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListSessionsResponse> ListSessions(ListSessionsRequest request, ServerCallContext context)
    {
        // A viewer lists its own sessions only; operators anyone's.
        var user = MayActForOthers(context) ? request.User == "" ? null : request.User : context.Caller();
        if (!MayActForOthers(context) && request.User != "" && request.User != user)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "only operators may list other users' sessions"));
        var response = new ListSessionsResponse();
        response.Sessions.AddRange(await store.ListAsync(user, request.IncludeTerminated, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<Session> GetSession(SessionRequest request, ServerCallContext context) => FindAsync(request.SessionId, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<Session> PauseSession(SessionRequest request, ServerCallContext context) =>
        ActAsync(request.SessionId, WorkloadTransitions.Pause, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<Session> ResumeSession(SessionRequest request, ServerCallContext context) =>
        ActAsync(request.SessionId, WorkloadTransitions.Resume, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Session> TerminateSession(SessionRequest request, ServerCallContext context)
    {
        var session = await FindAsync(request.SessionId, context);
        if (session.Status == "terminated") return session;
        var workloadId = Guid.Parse(session.WorkloadId);
        try
        {
            await workloads.ActAsync(workloadId, WorkloadTransitions.Delete, context.Caller(), context.CancellationToken);
        }
        catch (WorkloadConflictException ex) when (ex.Workload.VmState == VmStates.Deleted || ex.Workload.TaskState == TaskStates.Deleting)
        {
            // Already going or gone: the session only needs closing.
        }
        await store.CloseAsync(Guid.Parse(session.SessionId), clock.GetUtcNow(), context.CancellationToken);
        return await FindAsync(request.SessionId, context);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Quota> GetQuota(QuotaRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.User.Length is > 0 and <= 128, "user", "must be 1-128 characters").ThrowIfInvalid();
        if (request.User != context.Caller() && !MayActForOthers(context))
            throw new RpcException(new Status(StatusCode.PermissionDenied, "only operators may read other users' quotas"));
        return await store.QuotaAsync(request.User, options.Value.DefaultQuota, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Admin)]
    public override async Task<Quota> SetQuota(Quota request, ServerCallContext context)
    {
        new RequestValidation()
            .Require(request.User.Length is > 0 and <= 128, "user", "must be 1-128 characters")
            .Require(request.CpuCores >= 0, "cpu_cores", "must not be negative")
            .Require(request.GpuUnits >= 0, "gpu_units", "must not be negative")
            .Require(request.MemoryBytes >= 0, "memory_bytes", "must not be negative")
            .Require(request.Sessions >= 0, "sessions", "must not be negative")
            .ThrowIfInvalid();
        await store.SetQuotaAsync(request, clock.GetUtcNow(), context.CancellationToken);
        return await store.QuotaAsync(request.User, options.Value.DefaultQuota, context.CancellationToken);
    }

    async Task<Session> ActAsync(string id, WorkloadAction action, ServerCallContext context)
    {
        var session = await FindAsync(id, context);
        if (session.Status == "terminated")
            throw new RpcException(new Status(StatusCode.Aborted, $"Session {id} is terminated."));
        // A state the action is not allowed in is the workload's 409, with what it allows.
        await workloads.ActAsync(Guid.Parse(session.WorkloadId), action, context.Caller(), context.CancellationToken);
        return await FindAsync(id, context);
    }

    /// <summary>The session, if the caller may see it: its own, or any for operators.</summary>
    async Task<Session> FindAsync(string id, ServerCallContext context)
    {
        var session = await store.GetAsync(RequestValidation.RequireGuid(id, "session_id"), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Session {id} does not exist."));
        if (session.User != context.Caller() && !MayActForOthers(context))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Session {id} belongs to another user."));
        return session;
    }

    static bool MayActForOthers(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        return user.IsInRole("operator") || user.IsInRole("admin") || user.IsInRole("service");
    }

    /// <summary>Defaults, the application's command, and who the session is for; InvalidArgument names each bad field.</summary>
    CreateSessionRequest Normalize(CreateSessionRequest request, string caller, ServerCallContext context)
    {
        var n = request.Clone();
        if (n.User == "") n.User = caller;
        if (n.CpuCores == 0) n.CpuCores = 1;
        if (n.MemoryBytes == 0) n.MemoryBytes = 512L << 20;
        var known = options.Value.Applications.TryGetValue(n.Application, out var application);
        var mayActForOthers = MayActForOthers(context);
        // A viewer starts the configured applications only: a free command is code of its choosing on someone's node.
        var freeCommand = n.Command != "";
        if (n.Command == "" && known)
        {
            n.Command = application!.Command;
            n.Args.AddRange(application.Args);
        }
        new RequestValidation()
            .Require(!freeCommand || mayActForOthers, "command", "only operators may run a command of their own; start a configured application")
            .Require(n.Application.Length is > 0 and <= 128, "application", "must be 1-128 characters")
            .Require(n.Command != "", "command", $"is required: '{n.Application}' is not a configured application ({string.Join(", ", options.Value.Applications.Keys.DefaultIfEmpty("none configured"))})")
            .Require(n.User.Length <= 128 && (n.User == caller || mayActForOthers), "user", "only operators may open sessions for other users")
            .Require(n.CpuCores is > 0 and <= 1024, "cpu_cores", "must be between 1 and 1024")
            .Require(n.GpuUnits is >= 0 and <= 64, "gpu_units", "must be between 0 and 64")
            .Require(n.MemoryBytes >= 1 << 20, "memory_bytes", "must be at least 1 MiB (1048576)")
            .ThrowIfInvalid();
        return n;
    }

}
