using System.Text.RegularExpressions;

namespace Platform.Gateway.Audit;

/// <summary>
/// Every request through the gateway has an id: the caller's <c>X-Request-Id</c> when it is a sane one, else a new one.
/// It is set on the proxied request (the services log it) and on the response, and the audit log records it.
/// </summary>
public static partial class RequestIds
{
    public const string Header = "X-Request-Id";

    public static string Of(HttpContext context) => context.Request.Headers[Header].ToString();

    public static WebApplication UseRequestIds(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var given = context.Request.Headers[Header].ToString();
            var id = Sane().IsMatch(given) ? given : Guid.NewGuid().ToString("N");
            context.Request.Headers[Header] = id;
            context.Response.Headers[Header] = id;
            await next(context);
        });
        return app;
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex Sane();
}
