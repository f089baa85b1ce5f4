using System.Security.Claims;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Identity;

/// <summary>
/// API tokens for scripts and integrations (any user, at most its own role) and agent tokens for outside agents —
/// seed 001's monitoring agents, Prometheus remote_write, OpenTelemetry exporters, idle devices (admins). The token is
/// shown once; lists show its prefix, name, role and dates.
/// </summary>
public static class ApiTokenEndpoints
{
    public sealed record CreateTokenRequest(string? Name, string? Role, int? ExpiresInDays);
    /// <summary>An agent id, or a prefix ending in <c>*</c> for a fleet (<c>edge-*</c> speaks for edge-1, edge-2, …).</summary>
    public sealed record CreateAgentTokenRequest(string? AgentId, string? Name, int? ExpiresInDays);
    public sealed record TokenView(string TokenId, string Display, string Name, string Kind, string Subject, string Role, string CreatedBy,
        DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);
    public sealed record CreatedToken(string Token, TokenView Details);

    const int MaxDays = 366;

    public static void MapApiTokens(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/auth/tokens");
        tokens.MapPost("", CreateAsync).RequireAuthorization(PlatformPolicies.Viewer);
        tokens.MapGet("", async (ClaimsPrincipal caller, ApiTokenStore store, bool? all, CancellationToken ct) =>
            Results.Ok(new { tokens = (await store.ListAsync(all == true && IsAdmin(caller) ? null : Callers.Name(caller), ct)).Select(View) }))
            .RequireAuthorization(PlatformPolicies.Viewer);
        tokens.MapDelete("/{tokenId}", RevokeAsync).RequireAuthorization(PlatformPolicies.Viewer);
        app.MapPost("/api/auth/agents", CreateAgentAsync).RequireAuthorization(PlatformPolicies.Admin);
    }

    static async Task<IResult> CreateAsync(CreateTokenRequest request, ClaimsPrincipal caller, ApiTokenStore store, ILogger<ApiTokenStore> logger, HttpContext http,
        CancellationToken cancellationToken)
    {
        if (AccessTokens.CameFromApiToken(caller)) return ApiErrors.Forbidden("an API token cannot make tokens; log in");
        var role = caller.FindFirst(PlatformTokens.RoleClaim)?.Value ?? "";
        var violations = Name(request.Name).Concat(Days(request.ExpiresInDays)).Concat(UserRules.Role(request.Role)).ToList();
        // A token never carries more than its creator's role (and only people make API tokens).
        if (request.Role is not null && UserRules.Roles.Contains(request.Role) && Rank(request.Role) > Rank(role))
            violations.Add(("role", $"cannot exceed your own role ({role})"));
        if (violations.Count > 0) return ApiErrors.BadRequest([.. violations]);
        if (Rank(role) < 0) return ApiErrors.Forbidden("only users create API tokens");
        var token = ApiTokenFormat.New(ApiTokenFormat.ApiPrefix);
        var stored = await store.CreateAsync(token, request.Name!, "api", Callers.Name(caller), request.Role!, Callers.Name(caller), request.ExpiresInDays, cancellationToken);
        logger.LogInformation("API token {TokenId} ({Name}, {Role}) created by {Caller}", stored.TokenId, stored.Name, stored.Role, Callers.Name(caller));
        http.Items[AuditTags.TargetItem] = $"token {stored.TokenId} ({stored.Role})";
        return Results.Created($"/api/auth/tokens/{stored.TokenId}", new CreatedToken(token, View(stored)));
    }

    static async Task<IResult> CreateAgentAsync(CreateAgentTokenRequest request, ClaimsPrincipal caller, ApiTokenStore store, ILogger<ApiTokenStore> logger,
        HttpContext http, CancellationToken cancellationToken)
    {
        if (AccessTokens.CameFromApiToken(caller)) return ApiErrors.Forbidden("an API token cannot make tokens; log in");
        var violations = Name(request.Name).Concat(Days(request.ExpiresInDays)).ToList();
        if (string.IsNullOrEmpty(request.AgentId)) violations.Add(("agentId", "is required"));
        else if (request.AgentId.Length > 128 || request.AgentId.TrimEnd('*') is not { Length: > 0 } stem || request.AgentId.Length - stem.Length > 1
                 || stem.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            violations.Add(("agentId", "must be 1-128 characters of letters, digits, '-', '_' or '.', or such a prefix ending in '*' for a fleet"));
        if (violations.Count > 0) return ApiErrors.BadRequest([.. violations]);
        var token = ApiTokenFormat.New(ApiTokenFormat.AgentPrefix);
        var stored = await store.CreateAsync(token, request.Name!, "agent", request.AgentId!, "agent", Callers.Name(caller), request.ExpiresInDays, cancellationToken);
        logger.LogInformation("Agent token {TokenId} for {AgentId} created by {Caller}", stored.TokenId, stored.Subject, Callers.Name(caller));
        http.Items[AuditTags.TargetItem] = $"agent token {stored.TokenId} for {stored.Subject}";
        return Results.Created($"/api/auth/tokens/{stored.TokenId}", new CreatedToken(token, View(stored)));
    }

    static async Task<IResult> RevokeAsync(string tokenId, ClaimsPrincipal caller, ApiTokenStore store, ILogger<ApiTokenStore> logger, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(tokenId, out var id)) return ApiErrors.BadRequest(("tokenId", "must be a UUID"));
        var revoked = await store.RevokeAsync(id, IsAdmin(caller) ? null : Callers.Name(caller), cancellationToken);
        if (revoked is null) return ApiErrors.NotFound($"no token {tokenId} of yours");
        logger.LogInformation("Token {TokenId} ({Name}) revoked by {Caller}", revoked.TokenId, revoked.Name, Callers.Name(caller));
        return Results.NoContent();
    }

    static IEnumerable<(string, string)> Name(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) yield return ("name", "is required");
        else if (name.Length > 100) yield return ("name", "must be at most 100 characters");
    }

    static IEnumerable<(string, string)> Days(int? days)
    {
        if (days is < 1 or > MaxDays) yield return ("expiresInDays", $"must be between 1 and {MaxDays} (omit it for a token that does not expire)");
    }

    static int Rank(string role) => Array.IndexOf(UserRules.Roles, role);

    static bool IsAdmin(ClaimsPrincipal caller) => caller.IsInRole("admin");

    static TokenView View(ApiToken t) => new(t.TokenId.ToString(), t.Display, t.Name, t.Kind, t.Subject, t.Role, t.CreatedBy, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);
}
