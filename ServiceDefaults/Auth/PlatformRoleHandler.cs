using Microsoft.AspNetCore.Authorization;

namespace Platform.ServiceDefaults.Auth;

/// <summary>A policy's accepted roles, and whether it is a user policy (which anonymous callers may pass while allowed).</summary>
public sealed record PlatformRoleRequirement(bool UserRole, params string[] Roles) : IAuthorizationRequirement;

/// <summary>Grants a requirement to a caller holding one of its roles, or to an anonymous caller where settings allow.</summary>
public sealed class PlatformRoleHandler(AuthSettings settings) : AuthorizationHandler<PlatformRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PlatformRoleRequirement requirement)
    {
        var authenticated = context.User.Identity?.IsAuthenticated == true;
        if (authenticated ? requirement.Roles.Any(context.User.IsInRole) : requirement.UserRole && settings.AllowAnonymousUsers)
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
