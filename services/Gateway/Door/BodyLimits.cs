using Microsoft.AspNetCore.Http.Features;

namespace Platform.Gateway.Door;

/// <summary>
/// How large a request body may be, by kind of route: the password and token routes take a small form, metric
/// ingestion (remote write, OTLP) takes batches, everything else takes a JSON request. A larger body is a 413 before
/// it reaches a service.
/// </summary>
public static class BodyLimits
{
    public const long Auth = 16 << 10, Ingest = 16 << 20, Api = 1 << 20;

    public static long For(PathString path) =>
        path.StartsWithSegments("/api/auth") || path.StartsWithSegments("/auth") ? Auth
        : path.StartsWithSegments("/api/v1/write") || path.StartsWithSegments("/v1/metrics") ? Ingest
        : Api;

    public static WebApplication UseBodyLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var limit = For(context.Request.Path);
            if (context.Request.ContentLength > limit)
            {
                await Identity.ApiErrors.Status(StatusCodes.Status413PayloadTooLarge, 8, $"the request body is over {limit >> 10} KiB, the most this route takes").ExecuteAsync(context);
                return;
            }
            // A body without a length (chunked) is cut off by the server once it passes the limit.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;
            await next(context);
        });
        return app;
    }
}
