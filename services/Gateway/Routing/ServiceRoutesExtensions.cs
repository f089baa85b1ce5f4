namespace Platform.Gateway.Routing;

/// <summary>
/// YARP routes from public paths to each service's <c>http</c> endpoint. Routes and clusters live in configuration
/// (<c>ReverseProxy</c>); destinations name services (<c>http://compute</c>), resolved by service discovery.
/// </summary>
public static class ServiceRoutesExtensions
{
    public static IHostApplicationBuilder AddServiceRoutes(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();
        return builder;
    }
}
