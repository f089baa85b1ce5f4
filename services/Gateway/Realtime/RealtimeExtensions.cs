using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Realtime;

/// <summary>
/// <c>GET /ws/realtime</c>: the platform's events, live, over one WebSocket per client (subscribe by topic, resume after
/// a reconnect). The token is checked before the upgrade (<c>Authorization</c>, or <c>access_token</c> on the query).
/// </summary>
public static class RealtimeExtensions
{
    public static IHostApplicationBuilder AddRealtime(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RealtimeOptions>(builder.Configuration.GetSection("Gateway:Realtime"));
        builder.Services.AddSingleton<TopicLog>();
        builder.Services.AddSingleton<RealtimeHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RealtimeHub>());
        return builder;
    }

    public static void MapRealtime(this IEndpointRouteBuilder app) =>
        app.Map("/ws/realtime", ConnectAsync).RequireAuthorization(PlatformPolicies.Viewer);

    static async Task<IResult> ConnectAsync(HttpContext context, RealtimeHub hub, TopicLog log, TimeProvider clock, ILogger<RealtimeHub> logger)
    {
        if (LiveDoor.Refusal(context, hub) is { } refusal) return refusal;
        var user = Callers.Name(context.User);
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var connection = new RealtimeConnection(socket, context.User, log, hub.Options, logger);
            hub.Add(connection);
            try
            {
                await connection.RunAsync(LiveDoor.Expiry(context), clock, context.RequestAborted);
            }
            finally
            {
                hub.Remove(connection);
            }
        }
        finally
        {
            hub.Release(user);
        }
        return Results.Empty;
    }
}
