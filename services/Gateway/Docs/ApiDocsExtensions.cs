using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Platform.Gateway.Docs;

/// <summary>
/// The API reference: <c>/openapi.json</c> (OpenAPI 3.1) describes the gateway's own endpoints (from their metadata),
/// every service route it forwards (from the protos) and the live sockets; <c>/docs</c> is Scalar's interactive
/// reference over it. Both are open to anonymous callers.
/// </summary>
public static class ApiDocsExtensions
{
    public static IHostApplicationBuilder AddApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Fog compute platform",
                    Version = "v1",
                    Description = "One gateway for the whole platform: REST (gRPC JSON transcoding behind it) and WebSockets. Sign in at POST /api/auth/login and send the access token as `Authorization: Bearer …`. 64-bit integers are JSON strings.",
                };
                (document.Components ??= new OpenApiComponents()).SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    [ServiceRoutesDocument.BearerScheme] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT" },
                };
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<ServiceRoutesDocument>();
            options.AddDocumentTransformer<LiveEndpointsDocument>();
            options.AddOperationTransformer<GatewayEndpointRoles>();
        });
        return builder;
    }

    public static void MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", options => options.WithTitle("Fog compute platform API").WithOpenApiRoutePattern("/openapi.json")).AllowAnonymous();
    }
}
