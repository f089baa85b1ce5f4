namespace Platform.Gateway.Identity;

/// <summary>
/// Errors in the shape the services' REST answers have (google.rpc.Status as proto3 JSON, field violations in a
/// google.rpc.BadRequest), so a client reads the gateway's own routes the same way.
/// </summary>
public static class ApiErrors
{
    public static IResult BadRequest(params (string Field, string Description)[] violations) =>
        Results.Json(new
        {
            code = 3,
            message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")),
            details = new object[]
            {
                new Dictionary<string, object>
                {
                    ["@type"] = "type.googleapis.com/google.rpc.BadRequest",
                    ["fieldViolations"] = violations.Select(v => new { field = v.Field, description = v.Description }).ToArray(),
                },
            },
        }, statusCode: StatusCodes.Status400BadRequest);

    public static IResult Status(int httpStatus, int grpcCode, string message) =>
        Results.Json(new { code = grpcCode, message, details = Array.Empty<object>() }, statusCode: httpStatus);

    public static IResult Unauthenticated(string message) => Status(StatusCodes.Status401Unauthorized, 16, message);
    public static IResult NotFound(string message) => Status(StatusCodes.Status404NotFound, 5, message);
    public static IResult Conflict(string message) => Status(StatusCodes.Status409Conflict, 6, message);
    public static IResult Forbidden(string message) => Status(StatusCodes.Status403Forbidden, 7, message);
}

/// <summary>The gateway's own routes answer malformed requests and failures in the same JSON shape, never with a stack trace.</summary>
public static class JsonErrorHandling
{
    public static IHostApplicationBuilder AddJsonErrors(this IHostApplicationBuilder builder)
    {
        // A body that is not the JSON a route expects throws, so the handler below can say so in the platform's shape.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    public static WebApplication UseJsonErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Error;
                var result = error is BadHttpRequestException bad
                    ? bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                        ? ApiErrors.Status(bad.StatusCode, 8, "the request body is too large")
                        : ApiErrors.BadRequest(("body", "is not valid JSON of the shape this route takes"))
                    : ApiErrors.Status(StatusCodes.Status500InternalServerError, 13, "internal error");
                await result.ExecuteAsync(context);
            },
        });
        return app;
    }
}
