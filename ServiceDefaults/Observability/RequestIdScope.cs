using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.ServiceDefaults.Observability;

/// <summary>
/// The gateway gives every request an <c>X-Request-Id</c>; a service logs within its scope (<c>RequestId</c> on every
/// structured log line of the request) and tags the request's trace span with it, so one id finds a request in the
/// audit log, the logs of every service it reached, and its trace.
/// </summary>
public static class RequestIdScope
{
    public static WebApplication UseRequestIdScope(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Platform.RequestId");
        app.Use(async (context, next) =>
        {
            var id = context.Request.Headers["X-Request-Id"].ToString();
            if (id.Length is 0 or > 128)
            {
                await next(context);
                return;
            }
            Activity.Current?.SetTag("request.id", id);
            using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = id }))
                await next(context);
        });
        return app;
    }
}
