using System.Text.RegularExpressions;
using Platform.Gateway.Identity;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;

namespace Platform.Gateway.Audit;

/// <summary>
/// Records every mutating request that passes the gateway — the platform's API and the identity routes (logins, token
/// and user changes) alike — once it is answered: who (the token's subject, or the name a login tried), role, action
/// (method and path), target, status, client address, user agent and request id — and publishes it on the audit
/// topic. Metric ingestion (remote write, OTLP) is not audited: it is a stream of data from agents, not a change anyone
/// makes to the platform.
/// </summary>
public static partial class AuditRecording
{
    public static WebApplication UseAuditRecording(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!IsAudited(context.Request))
            {
                await next(context);
                return;
            }
            try
            {
                await next(context);
            }
            finally
            {
                var user = context.User;
                var actor = user.Identity?.IsAuthenticated == true ? Callers.Name(user) : context.Items[AuditTags.ActorItem] as string ?? "anonymous";
                var path = context.Request.Path.Value ?? "";
                var recorded = await context.RequestServices.GetRequiredService<AuditLog>().AppendAsync(new AuditEvent(0,
                    context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
                    actor[..Math.Min(actor.Length, 128)],
                    user.FindFirst(PlatformTokens.RoleClaim)?.Value ?? "",
                    $"{context.Request.Method} {Identifier().Replace(path, "{id}")}",
                    context.Items[AuditTags.TargetItem] as string ?? string.Join(",", Identifier().Matches(path).Select(m => m.Value)),
                    context.Response.StatusCode,
                    context.Connection.RemoteIpAddress?.ToString() ?? "",
                    context.Request.Headers.UserAgent.ToString() is { Length: > 256 } long_ ? long_[..256] : context.Request.Headers.UserAgent.ToString(),
                    RequestIds.Of(context)), CancellationToken.None);
                // Live to admins on /ws/realtime's audit topic, in the shape /api/audit lists it.
                await context.RequestServices.GetRequiredService<EventPublisher>().PublishAsync("audit", "audit.recorded", recorded);
            }
        });
        return app;
    }

    static bool IsAudited(HttpRequest request) =>
        request.Method is "POST" or "PUT" or "PATCH" or "DELETE"
        && !request.Path.StartsWithSegments("/api/v1/write") && !request.Path.StartsWithSegments("/v1/metrics") && !request.Path.StartsWithSegments("/api/audit/verify");

    /// <summary>UUIDs and numbers in a path: the resources an action touched.</summary>
    [GeneratedRegex(@"(?<=/)([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9]+)(?=/|$)")]
    private static partial Regex Identifier();
}
