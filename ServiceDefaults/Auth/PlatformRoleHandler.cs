using Microsoft.AspNetCore.Authorization;

namespace Platform.ServiceDefaults.Auth;

/// <summary>A policy's accepted roles.</summary>
public sealed record PlatformRoleRequirement(params string[] Roles) : IAuthorizationRequirement;

/// <summary>Grants a requirement to an authenticated caller holding one of its roles; never to an anonymous one.</summary>
public sealed class PlatformRoleHandler : AuthorizationHandler<PlatformRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PlatformRoleRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && requirement.Roles.Any(context.User.IsInRole))
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
