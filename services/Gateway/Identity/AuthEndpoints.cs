using System.Security.Claims;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Identity;

/// <summary>Login, refresh with rotation, logout, who am I, password change and (when enabled) self-registration.</summary>
public static class AuthEndpoints
{
    public sealed record LoginRequest(string? Username, string? Password);
    public sealed record RefreshRequest(string? RefreshToken);
    public sealed record PasswordRequest(string? CurrentPassword, string? NewPassword, string? RefreshToken);
    public sealed record UserView(string Username, string Role);
    public sealed record TokenPair(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, UserView User);

    // Verified against when the user does not exist, so an unknown name costs what a wrong password does.
    static readonly Lazy<string> DecoyHash = new(() => PasswordHasher.Hash(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18))));

    public static void MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in new[] { "/api/auth", "/auth" }) // seed 002 logs in at /auth/login
        {
            app.MapPost($"{prefix}/login", LoginAsync).AllowAnonymous();
            app.MapPost($"{prefix}/register", RegisterAsync).AllowAnonymous();
        }
        var auth = app.MapGroup("/api/auth");
        auth.MapPost("/refresh", RefreshAsync).AllowAnonymous();
        auth.MapPost("/logout", LogoutAsync).AllowAnonymous();
        auth.MapGet("/me", MeAsync).RequireAuthorization(); // any valid token: users, agents, services
        auth.MapPost("/password", ChangePasswordAsync).RequireAuthorization(PlatformPolicies.Viewer);
    }

    static async Task<IResult> LoginAsync(LoginRequest request, UserStore users, RefreshTokens refreshTokens, AccessTokens tokens, LoginThrottle throttle,
        IOptions<IdentityOptions> options, ILogger<UserStore> logger, HttpResponse response, CancellationToken cancellationToken)
    {
        var violations = new List<(string, string)>();
        if (string.IsNullOrEmpty(request.Username)) violations.Add(("username", "is required"));
        else if (!UserRules.IsPlausible(request.Username)) violations.Add(("username", "is not a username (1-64 characters of a-z, 0-9, '.', '_' or '-')"));
        if (string.IsNullOrEmpty(request.Password)) violations.Add(("password", "is required"));
        else if (request.Password.Length > UserRules.MaxPasswordLength) violations.Add(("password", $"must be at most {UserRules.MaxPasswordLength} characters"));
        if (violations.Count > 0) return ApiErrors.BadRequest([.. violations]);
        response.HttpContext.Items[AuditTags.ActorItem] = request.Username;

        if (await throttle.BeginAttemptAsync(request.Username!, cancellationToken) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            logger.LogWarning("Login attempt for {Username} refused: too many failures, {Seconds} s to wait", request.Username, seconds);
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiErrors.Status(StatusCodes.Status429TooManyRequests, 8, $"too many failed logins for this account; try again in {seconds} s");
        }
        var user = await users.FindAsync(request.Username!, cancellationToken);
        var matches = PasswordHasher.Verify(request.Password!, user?.PasswordHash ?? DecoyHash.Value, out var rehash);
        if (user is null || !matches || user.Disabled)
        {
            logger.LogInformation("Login refused for {Username}", request.Username);
            return ApiErrors.Unauthenticated("invalid username or password");
        }
        await throttle.SucceededAsync(user.Username, cancellationToken);
        if (rehash) await users.SetPasswordAsync(user.Username, PasswordHasher.Hash(request.Password!), cancellationToken);
        logger.LogInformation("User {Username} logged in", user.Username);
        return Results.Ok(Pair(user, await refreshTokens.StartFamilyAsync(user.Username, options.Value.RefreshTokenLifetime, cancellationToken), tokens));
    }

    static async Task<IResult> RefreshAsync(RefreshRequest request, UserStore users, RefreshTokens refreshTokens, AccessTokens tokens,
        IOptions<IdentityOptions> options, ILogger<UserStore> logger, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RefreshToken)) return ApiErrors.BadRequest(("refreshToken", "is required"));
        var (outcome, username, successor) = await refreshTokens.RotateAsync(request.RefreshToken, options.Value.RefreshTokenLifetime, cancellationToken);
        if (outcome == RefreshTokens.Outcome.Reused)
            logger.LogWarning("A rotated refresh token of {Username} was presented again; its whole family is revoked", username);
        if (outcome != RefreshTokens.Outcome.Rotated) return ApiErrors.Unauthenticated(outcome switch
        {
            RefreshTokens.Outcome.Expired => "the refresh token has expired; log in again",
            RefreshTokens.Outcome.Reused => "the refresh token was already used or revoked; every session it belongs to is now revoked",
            _ => "unknown refresh token",
        });
        var user = await users.FindAsync(username!, cancellationToken);
        if (user is null || user.Disabled)
        {
            await refreshTokens.RevokeFamilyOfAsync(successor!, cancellationToken);
            return ApiErrors.Unauthenticated("the account is disabled or gone");
        }
        return Results.Ok(Pair(user, successor!, tokens));
    }

    static async Task<IResult> LogoutAsync(RefreshRequest request, RefreshTokens refreshTokens, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RefreshToken)) return ApiErrors.BadRequest(("refreshToken", "is required"));
        await refreshTokens.RevokeFamilyOfAsync(request.RefreshToken, cancellationToken);
        return Results.NoContent();
    }

    static async Task<IResult> MeAsync(ClaimsPrincipal caller, UserStore users, CancellationToken cancellationToken)
    {
        var name = Callers.Name(caller);
        var role = caller.FindFirst(PlatformTokens.RoleClaim)?.Value ?? "";
        // Agents, services and API tokens are not users; they learn what their token says.
        return await users.FindAsync(name, cancellationToken) is { } user && UserRules.Roles.Contains(role)
            ? Results.Ok(new UserView(user.Username, user.Role))
            : Results.Ok(new UserView(name, role));
    }

    static async Task<IResult> ChangePasswordAsync(PasswordRequest request, ClaimsPrincipal caller, UserStore users, RefreshTokens refreshTokens, LoginThrottle throttle,
        ILogger<UserStore> logger, HttpResponse response, CancellationToken cancellationToken)
    {
        if (AccessTokens.CameFromApiToken(caller)) return ApiErrors.Forbidden("an API token cannot change its user's password; log in");
        var violations = new List<(string, string)>();
        if (string.IsNullOrEmpty(request.CurrentPassword)) violations.Add(("currentPassword", "is required"));
        violations.AddRange(UserRules.Password(request.NewPassword, "newPassword"));
        if (violations.Count > 0) return ApiErrors.BadRequest([.. violations]);
        var user = await users.FindAsync(Callers.Name(caller), cancellationToken);
        if (user is null) return ApiErrors.Forbidden("only users have passwords");
        // Guessing the current password here is guessing a login: the same per-account throttle applies.
        if (await throttle.BeginAttemptAsync(user.Username, cancellationToken) is { } wait)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiErrors.Status(StatusCodes.Status429TooManyRequests, 8, "too many wrong passwords for this account; try again later");
        }
        if (!PasswordHasher.Verify(request.CurrentPassword!, user.PasswordHash, out _)) return ApiErrors.BadRequest(("currentPassword", "is not this account's password"));
        await throttle.SucceededAsync(user.Username, cancellationToken);
        await users.SetPasswordAsync(user.Username, PasswordHasher.Hash(request.NewPassword!), cancellationToken);
        await refreshTokens.RevokeAllAsync(user.Username, keep: request.RefreshToken, cancellationToken);
        logger.LogInformation("User {Username} changed its password; its other sessions are revoked", user.Username);
        return Results.NoContent();
    }

    static async Task<IResult> RegisterAsync(LoginRequest request, UserStore users, IOptions<IdentityOptions> options, CancellationToken cancellationToken)
    {
        if (!options.Value.SelfRegistration) return ApiErrors.Forbidden("self-registration is off (Gateway__Auth__SelfRegistration); an admin creates users");
        var violations = UserRules.Username(request.Username).Concat(UserRules.Password(request.Password)).ToArray();
        if (violations.Length > 0) return ApiErrors.BadRequest(violations);
        if (!await users.CreateAsync(request.Username!, PasswordHasher.Hash(request.Password!), "viewer", cancellationToken))
            return ApiErrors.Conflict($"the username {request.Username} is taken, or was a deleted user's (names are never given again)");
        return Results.Created($"/api/auth/users/{request.Username}", new UserView(request.Username!, "viewer"));
    }

    static TokenPair Pair(User user, string refreshToken, AccessTokens tokens)
    {
        var (access, lifetime) = tokens.ForUser(user.Username, user.Role);
        return new TokenPair(access, refreshToken, "Bearer", (int)lifetime.TotalSeconds, new UserView(user.Username, user.Role));
    }
}
