using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Gateway.Tests;

/// <summary>The gateway's own routes: each declares a policy, or is one of the few anonymous ones on purpose.</summary>
public sealed class GatewayRouteTests : IAsyncLifetime
{
    static readonly string[] Anonymous =
    [
        "/api/auth/login", "/auth/login", "/api/auth/register", "/auth/register", "/api/auth/refresh", "/api/auth/logout", "/api/auth/token",
        "/.well-known/jwks.json", "/.well-known/openid-configuration", "/health", "/alive", "/metrics",
        // The API reference and Scalar's page over it.
        "/openapi.json", "/docs/{documentName?}", "/docs/scalar.js", "/docs/scalar.aspnetcore.js", "/docs/favicon.svg",
    ];

    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public void Every_route_of_the_gateway_declares_a_policy_or_is_anonymous_on_purpose()
    {
        var endpoints = gateway.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } path && !path.Contains("{**catch-all}") && e.Metadata.GetMetadata<IHttpMethodMetadata>() is not null || e.RoutePattern.RawText is "/health" or "/alive" or "/metrics")
            .ToList();
        Assert.NotEmpty(endpoints);

        var open = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null || e.Metadata.GetOrderedMetadata<IAuthorizeData>().Count == 0)
            .Select(e => e.RoutePattern.RawText!).Distinct().ToList();
        Assert.Empty(open.Except(Anonymous));
        Assert.Contains(endpoints, e => e.RoutePattern.RawText!.TrimEnd('/') == "/api/auth/users" && e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == "admin"));
    }
}
