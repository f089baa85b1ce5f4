using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Security;

public static class SecurityExtensions
{
    public static IHostApplicationBuilder AddSecurityView(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SecurityFigures>();
        builder.Services.AddSingleton<SecurityView>();
        return builder;
    }

    /// <summary>Seed 000's <c>GET /api/security</c>, for admins.</summary>
    public static void MapSecurityView(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/security", async (SecurityView view, CancellationToken ct) => Results.Json(await view.ComposeAsync(ct)))
            .RequireAuthorization(PlatformPolicies.Admin);
}
