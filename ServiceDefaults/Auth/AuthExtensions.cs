using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Platform.ServiceDefaults.Auth;

/// <summary>JWT validation with the platform's key, and the authorization policies RPCs declare.</summary>
public static class AuthExtensions
{
    public static IHostApplicationBuilder AddPlatformAuth(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection("Auth").Get<AuthSettings>() ?? new AuthSettings();
        builder.Services.AddSingleton(settings);

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = settings.Issuer,
                    ValidAudience = PlatformTokens.Audience,
                    // Without a configured key no token can be valid: every bearer token is then rejected.
                    IssuerSigningKey = new SymmetricSecurityKey(settings.SigningKeyBytes ?? new byte[32]),
                    RoleClaimType = PlatformTokens.RoleClaim,
                    NameClaimType = "sub",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                // Browsers and WebSocket agents cannot always set headers on an upgrade: accept access_token there.
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (context.HttpContext.WebSockets.IsWebSocketRequest && context.Request.Query.TryGetValue("access_token", out var token))
                            context.Token = token;
                        return Task.CompletedTask;
                    },
                };
                if (settings.SigningKeyBytes is null)
                    options.TokenValidationParameters.SignatureValidator = (_, _) => throw new SecurityTokenSignatureKeyNotFoundException("No signing key is configured (Auth__SigningKey).");
            });

        builder.Services.AddSingleton<IAuthorizationHandler, PlatformRoleHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(PlatformPolicies.Viewer, p => p.AddRequirements(new PlatformRoleRequirement(UserRole: true, "viewer", "operator", "admin", "service")))
            .AddPolicy(PlatformPolicies.Operator, p => p.AddRequirements(new PlatformRoleRequirement(UserRole: true, "operator", "admin", "service")))
            .AddPolicy(PlatformPolicies.Admin, p => p.AddRequirements(new PlatformRoleRequirement(UserRole: true, "admin")))
            .AddPolicy(PlatformPolicies.Agent, p => p.AddRequirements(new PlatformRoleRequirement(UserRole: false, "agent", "service")))
            .AddPolicy(PlatformPolicies.Service, p => p.AddRequirements(new PlatformRoleRequirement(UserRole: false, "service")));
        return builder;
    }

    /// <summary>
    /// Authentication, then a hard 401 for a bearer token that does not validate — even where anonymous callers are
    /// let in, a caller who presents a bad or expired token must learn that it is bad.
    /// </summary>
    public static WebApplication UsePlatformAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers.Authorization.Count > 0)
            {
                var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
                if (!result.Succeeded)
                {
                    await context.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme);
                    return;
                }
            }
            await next(context);
        });
        app.UseAuthorization();
        return app;
    }
}

/// <summary>Configuration under <c>Auth</c>: the shared signing key (base64) and issuer.</summary>
public sealed class AuthSettings
{
    public string? SigningKey { get; set; }
    public string Issuer { get; set; } = "platform";

    /// <summary>
    /// Lets callers without a token use the user policies. The platform has no login yet (it comes with the gateway
    /// issue); agent RPCs never accept anonymous callers.
    /// </summary>
    public bool AllowAnonymousUsers { get; set; } = true;

    public byte[]? SigningKeyBytes => string.IsNullOrEmpty(SigningKey) ? null : Convert.FromBase64String(SigningKey);
}

/// <summary>The names of the policies every RPC declares.</summary>
public static class PlatformPolicies
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";
    public const string Agent = "agent";
    /// <summary>Only the platform's own services (a NodeAgent's API, called by Compute).</summary>
    public const string Service = "service";
}
