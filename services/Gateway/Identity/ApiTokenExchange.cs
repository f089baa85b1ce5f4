using Microsoft.AspNetCore.Http.Extensions;

namespace Platform.Gateway.Identity;

/// <summary>
/// Services only ever see the issuer's JWTs. A request that presents an API or agent token (in Authorization, or as
/// <c>access_token</c> on a WebSocket upgrade) has it checked here — shape and checksum first, then the stored digest,
/// revocation and expiry, and for an API token its user, still enabled, whose current role caps the token's — and
/// replaced by a five-minute JWT for the same subject and role before the gateway's own routes or the proxy see it.
/// </summary>
public static class ApiTokenExchange
{
    public static WebApplication UseApiTokenExchange(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            var fromHeader = header.StartsWith("Bearer fog", StringComparison.Ordinal);
            var presented = fromHeader ? header[7..].Trim()
                : IsWebSocketUpgrade(context.Request) && context.Request.Query["access_token"].ToString() is { } fromQuery && fromQuery.StartsWith("fog", StringComparison.Ordinal) ? fromQuery : null;
            if (presented is null)
            {
                await next(context);
                return;
            }
            var jwt = await ExchangeAsync(presented, context.RequestServices, context.RequestAborted);
            if (jwt is null)
            {
                await ApiErrors.Unauthenticated("the API token is malformed, unknown, revoked or expired").ExecuteAsync(context);
                return;
            }
            context.Request.Headers.Authorization = $"Bearer {jwt}";
            if (!fromHeader)
            {
                var query = new QueryBuilder(context.Request.Query.Where(q => q.Key != "access_token").SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v ?? ""))));
                context.Request.QueryString = query.ToQueryString();
            }
            await next(context);
        });
        return app;
    }

    /// <summary>The gateway proxies upgrades itself (YARP), without the WebSockets middleware, so the request's headers tell.</summary>
    static bool IsWebSocketUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.ToString().Equals("websocket", StringComparison.OrdinalIgnoreCase) || request.HttpContext.WebSockets.IsWebSocketRequest;

    static async Task<string?> ExchangeAsync(string presented, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!ApiTokenFormat.IsWellFormed(presented)) return null;
        var token = await services.GetRequiredService<ApiTokenStore>().FindLiveAsync(presented, cancellationToken);
        if (token is null) return null;
        var role = token.Role;
        if (token.Kind == "api")
        {
            var user = await services.GetRequiredService<UserStore>().FindAsync(token.Subject, cancellationToken);
            if (user is null || user.Disabled) return null;
            if (Array.IndexOf(UserRules.Roles, user.Role) < Array.IndexOf(UserRules.Roles, role)) role = user.Role;
        }
        return services.GetRequiredService<AccessTokens>().ForExchange(token.Subject, role);
    }
}
