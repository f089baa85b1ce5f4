using Platform.Gateway.Identity;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Realtime;

/// <summary>
/// The door of every live socket (<c>/ws/realtime</c> and the seeds' push views), after the token was checked: an
/// upgrade request, from a user (not an agent or a script's token), within the per-user connection cap.
/// </summary>
public static class LiveDoor
{
    /// <summary>Why the request may not become a live socket, or null when it may — then the caller must <see cref="RealtimeHub.Release"/> the user's slot.</summary>
    public static IResult? Refusal(HttpContext context, RealtimeHub hub)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            return ApiErrors.Status(StatusCodes.Status400BadRequest, 3, $"{context.Request.Path} is a WebSocket: send an upgrade request");
        if (!RealtimeTopics.MayConnect(context.User))
            return ApiErrors.Status(StatusCodes.Status403Forbidden, 7, "live connections are for users (viewer, operator, admin)");
        if (!hub.TryReserve(Callers.Name(context.User)))
            return ApiErrors.Status(StatusCodes.Status429TooManyRequests, 8, $"at most {hub.Options.MaxConnectionsPerUser} live connections per user");
        return null;
    }

    /// <summary>The token's expiry: a live socket ends with it (the client reconnects with a fresh token).</summary>
    public static DateTimeOffset? Expiry(HttpContext context) =>
        long.TryParse(context.User.FindFirst("exp")?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
