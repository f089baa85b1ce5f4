using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Platform.ServiceDefaults.Auth;

/// <summary>
/// JWT validation with the issuer's public keys, and the authorization policies RPCs declare. The keys come from the
/// issuer's JWKS (<c>Auth:Authority</c>, the gateway: fetched when first needed, again when a token names a key not
/// seen yet, and hourly), or are given inline (<c>Auth:Jwks</c>). No process but the issuer holds anything that can
/// sign a token.
/// </summary>
public static class AuthExtensions
{
    public static IHostApplicationBuilder AddPlatformAuth(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection("Auth").Get<AuthSettings>() ?? new AuthSettings();
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<ProcessCredential>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = PlatformTokens.Issuer,
                    ValidAudience = settings.Audience,
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                    RoleClaimType = PlatformTokens.RoleClaim,
                    NameClaimType = "sub",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                if (settings.Jwks is { Length: > 0 } jwks)
                    options.TokenValidationParameters.IssuerSigningKeys = new JsonWebKeySet(jwks).GetSigningKeys();

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
            });

        if (settings.Jwks is not { Length: > 0 } && settings.Authority is { Length: > 0 } issuer)
            builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<ILoggerFactory>((options, loggers) =>
                options.ConfigurationManager = new IssuerKeys($"{issuer.TrimEnd('/')}/.well-known/openid-configuration", TimeProvider.System, loggers.CreateLogger<IssuerKeys>()));

        builder.Services.AddSingleton<IAuthorizationHandler, PlatformRoleHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(PlatformPolicies.Viewer, p => p.AddRequirements(new PlatformRoleRequirement("viewer", "operator", "admin", "service")))
            .AddPolicy(PlatformPolicies.Operator, p => p.AddRequirements(new PlatformRoleRequirement("operator", "admin", "service")))
            .AddPolicy(PlatformPolicies.Admin, p => p.AddRequirements(new PlatformRoleRequirement("admin")))
            .AddPolicy(PlatformPolicies.Agent, p => p.AddRequirements(new PlatformRoleRequirement("agent", "service")))
            .AddPolicy(PlatformPolicies.Service, p => p.AddRequirements(new PlatformRoleRequirement("service")))
            .AddPolicy(PlatformPolicies.AdminOrService, p => p.AddRequirements(new PlatformRoleRequirement("admin", "service")))
            .AddPolicy(PlatformPolicies.AgentOrOperator, p => p.AddRequirements(new PlatformRoleRequirement("agent", "operator", "admin", "service")));
        return builder;
    }

    /// <summary>
    /// Authentication, then a hard 401 for a bearer token that does not validate — a caller who presents a bad or
    /// expired token must learn that it is bad, wherever it calls. (Other schemes, such as a client's HTTP Basic
    /// credential at the token endpoint, are the route's to judge.) An agent whose node was rejected is refused here
    /// too, in every service that has the cache. Authorization comes after it (MapDefaultEndpoints), so what runs
    /// between the two knows the caller and still sees every request authorization would refuse.
    /// </summary>
    public static WebApplication UsePlatformAuthentication(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
                if (!result.Succeeded)
                {
                    await context.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme);
                    return;
                }
            }
            // A rejected node's agent is refused at once, whatever token it still holds.
            if (context.User.IsInRole("agent") && context.RequestServices.GetService<AgentRevocations>() is { } revocations
                && await revocations.IsRevokedAsync(Callers.Name(context.User)))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new { code = 7, message = $"the agent {Callers.Name(context.User)} was rejected by an operator", details = Array.Empty<object>() });
                return;
            }
            await next(context);
        });
        return app;
    }
}

/// <summary>
/// Configuration under <c>Auth</c>: where the issuer's public keys come from, and this process's own credential for
/// calling others (a client id and secret exchanged at the issuer's token endpoint, or a token given as is).
/// </summary>
public sealed class AuthSettings
{
    /// <summary>The issuer's base address (the gateway); its keys are read from its OpenID discovery document.</summary>
    public string? Authority { get; set; }

    /// <summary>The issuer's public keys as a JWK set, instead of fetching them.</summary>
    public string? Jwks { get; set; }

    /// <summary>The audience this process accepts: the platform's (services); a NodeAgent accepts its own node's instead.</summary>
    public string Audience { get; set; } = PlatformTokens.Audience;

    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }

    /// <summary>A token to send as is (an outside agent given an agent token), when there is no client credential.</summary>
    public string? Token { get; set; }
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
    /// <summary>An agent for what its credential is bound to (checked by the RPC), or an operator for anything.</summary>
    public const string AgentOrOperator = "agent-or-operator";
    /// <summary>Admins, and the platform's services acting on a decision (Tokenomics executing a governance proposal).</summary>
    public const string AdminOrService = "admin-or-service";
}
