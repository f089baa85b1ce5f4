using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Agents;

/// <summary>The seeds' agent API (<c>/api/v1/agents</c>): list, details, stats, configuration, deletion, fleet summary.</summary>
public sealed class AgentRegistryService(AgentStore store, EventPublisher events, TimeProvider clock) : AgentRegistry.AgentRegistryBase
{
    const int MaxConfigBytes = 64 * 1024;
    static readonly string[] Statuses = ["online", "stale", "offline"];

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListAgentsResponse> ListAgents(ListAgentsRequest request, ServerCallContext context)
    {
        new RequestValidation()
            .Require(request.Status == "" || Statuses.Contains(request.Status), "status", "must be online, stale or offline")
            .ThrowIfInvalid();
        var now = clock.GetUtcNow();
        var response = new ListAgentsResponse();
        response.Agents.AddRange((await store.ListAsync(context.CancellationToken))
            .Where(a => request.Provider == "" || a.Provider == request.Provider)
            .Where(a => request.Region == "" || a.Region == request.Region)
            .Select(a => a.ToMessage(now))
            .Where(a => request.Status == "" || a.Status == request.Status));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<FleetSummary> GetFleetSummary(GetFleetSummaryRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var agents = await store.ListAsync(context.CancellationToken);
        var summary = new FleetSummary
        {
            Agents = agents.Count,
            Online = agents.Count(a => a.Status(now) == "online"),
            Stale = agents.Count(a => a.Status(now) == "stale"),
            Offline = agents.Count(a => a.Status(now) == "offline"),
            Batches = agents.Sum(a => a.Batches),
            Samples = agents.Sum(a => a.Samples),
        };
        summary.ByProvider.Add(agents.GroupBy(a => a.Provider == "" ? "unknown" : a.Provider).ToDictionary(g => g.Key, g => g.Count()));
        return summary;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Agent> GetAgent(AgentRequest request, ServerCallContext context) =>
        (await FindAsync(request.AgentId, context)).ToMessage(clock.GetUtcNow());

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<AgentStats> GetAgentStats(AgentRequest request, ServerCallContext context) =>
        (await FindAsync(request.AgentId, context)).ToStats();

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<AgentConfig> GetAgentConfig(AgentRequest request, ServerCallContext context)
    {
        ValidateId(request.AgentId);
        var json = await store.GetConfigAsync(request.AgentId, context.CancellationToken) ?? throw NotFound(request.AgentId);
        return new AgentConfig { AgentId = request.AgentId, Config = JsonParser.Default.Parse<Struct>(json) };
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<AgentConfig> PutAgentConfig(PutAgentConfigRequest request, ServerCallContext context)
    {
        var json = JsonFormatter.Default.Format(request.Config ?? new Struct());
        new RequestValidation()
            .Require(IsValidId(request.AgentId), "agent_id", "must be 1-128 characters")
            .Require(json.Length <= MaxConfigBytes, "config", $"at most {MaxConfigBytes / 1024} KiB of JSON")
            .ThrowIfInvalid();
        if (!await store.PutConfigAsync(request.AgentId, json, context.CancellationToken))
            throw NotFound(request.AgentId);
        var config = new AgentConfig { AgentId = request.AgentId, Config = request.Config ?? new Struct() };
        await events.PublishAsync("agents", "agent.config_changed", config);
        return config;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<DeleteAgentResponse> DeleteAgent(AgentRequest request, ServerCallContext context)
    {
        ValidateId(request.AgentId);
        if (!await store.DeleteAsync(request.AgentId, context.CancellationToken))
            throw NotFound(request.AgentId);
        await events.PublishAsync("agents", "agent.deleted", new { agentId = request.AgentId });
        return new DeleteAgentResponse();
    }

    async Task<AgentRecord> FindAsync(string agentId, ServerCallContext context)
    {
        ValidateId(agentId);
        return await store.GetAsync(agentId, context.CancellationToken) ?? throw NotFound(agentId);
    }

    static bool IsValidId(string agentId) => agentId.Length is > 0 and <= 128;

    static void ValidateId(string agentId) =>
        new RequestValidation().Require(IsValidId(agentId), "agent_id", "must be 1-128 characters").ThrowIfInvalid();

    static RpcException NotFound(string agentId) => new(new Status(StatusCode.NotFound, $"No agent '{agentId}' is known."));
}
