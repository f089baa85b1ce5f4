using System.Text.Json;
using Platform.ServiceDefaults.Auth;
using Platform.Telemetry.Ingestion;
using Platform.Telemetry.Storage;

namespace Platform.Telemetry.Agents;

/// <summary>
/// <c>GET /api/v1/agents/connect?agent_id=ID&amp;provider=…&amp;region=…</c>, upgraded to a WebSocket: the seeds'
/// agent protocol. The agent's token (Authorization header, or <c>access_token</c> in the query) must speak for that agent id.
/// </summary>
public static class WebSocketAgentEndpoint
{
    public static IEndpointRouteBuilder MapAgentWebSocket(this IEndpointRouteBuilder app)
    {
        app.Map("/api/v1/agents/connect", ConnectAsync).RequireAuthorization(PlatformPolicies.Agent);
        return app;
    }

    static async Task<IResult> ConnectAsync(
        HttpContext http, AgentStore agents, SampleWriter writer, SeriesInterner series, IngestionLimits limits, ConnectedAgents connected, AgentRevocations revocations,
        TimeProvider clock, ILoggerFactory loggers)
    {
        if (!http.WebSockets.IsWebSocketRequest)
            return Results.Problem(detail: "this endpoint speaks WebSocket only", statusCode: StatusCodes.Status400BadRequest);
        var agentId = http.Request.Query["agent_id"].ToString();
        if (agentId.Length is 0 or > 128)
            return Results.Problem(detail: "agent_id: must be 1-128 characters", statusCode: StatusCodes.Status400BadRequest);
        var caller = http.User;
        if (caller.IsInRole("agent") && !Callers.ActsFor(caller, agentId))
            return Results.Problem(detail: $"this token may not connect as agent '{agentId}'", statusCode: StatusCodes.Status403Forbidden);
        if (caller.IsInRole("agent") && await revocations.IsRevokedAsync(agentId))
            return Results.Problem(detail: $"agent '{agentId}' was rejected by an operator", statusCode: StatusCodes.Status403Forbidden);

        var cancellationToken = http.RequestAborted;
        await agents.RegisterAsync(new AgentRegistration(agentId, Provider: http.Request.Query["provider"].ToString(), Region: http.Request.Query["region"].ToString()),
            clock.GetUtcNow(), cancellationToken);
        var config = JsonDocument.Parse(await agents.GetConfigAsync(agentId, cancellationToken) ?? "{}").RootElement;

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var session = new WebSocketAgentSession(agentId, caller, socket, agents, writer, series, limits, clock, loggers.CreateLogger<WebSocketAgentSession>());
        connected.Add(session);
        try
        {
            await session.RunAsync(config, cancellationToken);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            connected.Remove(session);
        }
        return Results.Empty;
    }
}
