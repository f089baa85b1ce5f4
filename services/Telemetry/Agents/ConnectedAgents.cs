using System.Collections.Concurrent;
using System.Text.Json;
using Platform.ServiceDefaults.Cache;
using StackExchange.Redis;

namespace Platform.Telemetry.Agents;

/// <summary>
/// The WebSocket agents connected to this replica. Configuration changes arrive as <c>agent.config_changed</c> events
/// on <c>platform.events.agents</c>, whichever replica stored them, and are pushed to the agent if it is connected here.
/// </summary>
public sealed class ConnectedAgents(IConnectionMultiplexer cache, ILogger<ConnectedAgents> logger) : IHostedService
{
    readonly ConcurrentDictionary<string, WebSocketAgentSession> sessions = new();

    public void Add(WebSocketAgentSession session) => sessions[session.AgentId] = session;

    public void Remove(WebSocketAgentSession session) => sessions.TryRemove(new(session.AgentId, session));

    public async Task StartAsync(CancellationToken cancellationToken) =>
        await cache.SubscribeEventsAsync("agents", (channel, message) => _ = OnEventAsync(message));

    public async Task StopAsync(CancellationToken cancellationToken) =>
        await cache.UnsubscribeEventsAsync("agents");

    async Task OnEventAsync(RedisValue message)
    {
        try
        {
            using var envelope = JsonDocument.Parse(message.ToString());
            if (envelope.RootElement.GetProperty("type").GetString() != "agent.config_changed") return;
            var data = envelope.RootElement.GetProperty("data");
            if (sessions.TryGetValue(data.GetProperty("agentId").GetString() ?? "", out var session))
                await session.PushConfigAsync(data.TryGetProperty("config", out var config) ? config.Clone() : default);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or System.Net.WebSockets.WebSocketException)
        {
            logger.LogWarning("An agents event could not be delivered: {Reason}", ex.Message);
        }
    }
}
