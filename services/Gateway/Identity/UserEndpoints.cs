using System.Security.Claims;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Identity;

/// <summary>Users managed by admins: create, list, change role or disable, delete.</summary>
public static class UserEndpoints
{
    public sealed record CreateUserRequest(string? Username, string? Password, string? Role);
    public sealed record UpdateUserRequest(string? Role, bool? Disabled);
    public sealed record UserSummary(string Username, string Role, bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public static void MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/auth/users").RequireAuthorization(PlatformPolicies.Admin);
        users.MapPost("", CreateAsync);
        users.MapGet("", async (UserStore store, CancellationToken ct) => Results.Ok(new { users = (await store.ListAsync(ct)).Select(Summary) }));
        users.MapPut("/{username}", UpdateAsync);
        users.MapDelete("/{username}", DeleteAsync);
        users.MapPost("/{username}/unlock", async (string username, LoginThrottle throttle, ClaimsPrincipal caller, ILogger<UserStore> logger, HttpContext http, CancellationToken ct) =>
        {
            http.Items[AuditTags.TargetItem] = $"user {username}";
            var lifted = await throttle.ClearAsync(username, ct);
            if (lifted) logger.LogInformation("Login lock of {Username} lifted by {Caller}", username, Callers.Name(caller));
            return Results.NoContent();
        });
    }

    static async Task<IResult> CreateAsync(CreateUserRequest request, UserStore store, ClaimsPrincipal caller, ILogger<UserStore> logger, HttpContext http,
        CancellationToken cancellationToken)
    {
        http.Items[AuditTags.TargetItem] = $"user {request.Username} as {request.Role}";
        var violations = UserRules.Username(request.Username).Concat(UserRules.Password(request.Password)).Concat(UserRules.Role(request.Role)).ToArray();
        if (violations.Length > 0) return ApiErrors.BadRequest(violations);
        if (!await store.CreateAsync(request.Username!, PasswordHasher.Hash(request.Password!), request.Role!, cancellationToken))
            return ApiErrors.Conflict($"the username {request.Username} is taken, or was a deleted user's (names are never given again)");
        logger.LogInformation("User {Username} created as {Role} by {Caller}", request.Username, request.Role, Callers.Name(caller));
        return Results.Created($"/api/auth/users/{request.Username}", Summary((await store.FindAsync(request.Username!, cancellationToken))!));
    }

    static async Task<IResult> UpdateAsync(string username, UpdateUserRequest request, UserStore store, RefreshTokens refreshTokens, ClaimsPrincipal caller,
        ILogger<UserStore> logger, HttpContext http, CancellationToken cancellationToken)
    {
        http.Items[AuditTags.TargetItem] = $"user {username}{(request.Role is null ? "" : $" role {request.Role}")}{(request.Disabled is { } d ? $" disabled {d}" : "")}";
        if (request.Role is not null && UserRules.Role(request.Role).ToArray() is { Length: > 0 } violations) return ApiErrors.BadRequest(violations);
        // An admin cannot lock itself out; another admin (or Platform__AdminPassword) can change it.
        if (username == Callers.Name(caller) && (request.Disabled == true || request.Role is not (null or "admin")))
            return ApiErrors.BadRequest(("username", "an admin cannot demote or disable itself"));
        var updated = await store.UpdateAsync(username, request.Role, request.Disabled, cancellationToken);
        if (updated is null) return ApiErrors.NotFound($"no user {username}");
        // Sessions end with a change of standing: the next refresh would carry the new role anyway, a disabled user none.
        if (request.Disabled == true || request.Role is not null) await refreshTokens.RevokeAllAsync(username, keep: null, cancellationToken);
        logger.LogInformation("User {Username} is now {Role}{Disabled} (by {Caller})", username, updated.Role, updated.Disabled ? ", disabled" : "", Callers.Name(caller));
        return Results.Ok(Summary(updated));
    }

    static async Task<IResult> DeleteAsync(string username, UserStore store, ApiTokenStore tokens, ClaimsPrincipal caller, ILogger<UserStore> logger, HttpContext http,
        CancellationToken cancellationToken)
    {
        http.Items[AuditTags.TargetItem] = $"user {username}";
        if (username == Callers.Name(caller)) return ApiErrors.BadRequest(("username", "an admin cannot delete itself"));
        if (!await store.DeleteAsync(username, cancellationToken)) return ApiErrors.NotFound($"no user {username}");
        // Its API tokens go with it: a user made later under the same name must not inherit them.
        await tokens.RevokeAllOfAsync(username, cancellationToken);
        logger.LogInformation("User {Username} deleted by {Caller}", username, Callers.Name(caller));
        return Results.NoContent();
    }

    static UserSummary Summary(User user) => new(user.Username, user.Role, user.Disabled, user.CreatedAt, user.UpdatedAt);
}
