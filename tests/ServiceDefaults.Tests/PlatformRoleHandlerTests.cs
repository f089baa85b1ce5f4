using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Tests;

public sealed class PlatformRoleHandlerTests
{
    static async Task<bool> GrantsAsync(PlatformRoleRequirement requirement, ClaimsPrincipal user, bool allowAnonymousUsers = true)
    {
        var context = new AuthorizationHandlerContext([requirement], user, null);
        await new PlatformRoleHandler(new AuthSettings { AllowAnonymousUsers = allowAnonymousUsers }).HandleAsync(context);
        return context.HasSucceeded;
    }

    static ClaimsPrincipal User(string role) =>
        new(new ClaimsIdentity([new Claim("sub", "x"), new Claim(PlatformTokens.RoleClaim, role)], "Bearer", "sub", PlatformTokens.RoleClaim));

    static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());

    [Fact]
    public async Task A_caller_needs_one_of_the_policy_roles()
    {
        var operate = new PlatformRoleRequirement(UserRole: true, "operator", "admin");

        Assert.True(await GrantsAsync(operate, User("admin")));
        Assert.False(await GrantsAsync(operate, User("viewer")));
        Assert.False(await GrantsAsync(operate, User("agent")));
    }

    [Fact]
    public async Task Anonymous_callers_pass_user_policies_only_while_allowed_and_never_agent_ones()
    {
        var read = new PlatformRoleRequirement(UserRole: true, "viewer");
        var agent = new PlatformRoleRequirement(UserRole: false, "agent");

        Assert.True(await GrantsAsync(read, Anonymous));
        Assert.False(await GrantsAsync(read, Anonymous, allowAnonymousUsers: false));
        Assert.False(await GrantsAsync(agent, Anonymous));
    }
}
