using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Tests;

public sealed class PlatformRoleHandlerTests
{
    static async Task<bool> GrantsAsync(PlatformRoleRequirement requirement, ClaimsPrincipal user)
    {
        var context = new AuthorizationHandlerContext([requirement], user, null);
        await new PlatformRoleHandler().HandleAsync(context);
        return context.HasSucceeded;
    }

    static ClaimsPrincipal User(string role) =>
        new(new ClaimsIdentity([new Claim("sub", "x"), new Claim(PlatformTokens.RoleClaim, role)], "Bearer", "sub", PlatformTokens.RoleClaim));

    static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());

    [Fact]
    public async Task A_caller_needs_one_of_the_policy_roles()
    {
        var operate = new PlatformRoleRequirement("operator", "admin");

        Assert.True(await GrantsAsync(operate, User("admin")));
        Assert.False(await GrantsAsync(operate, User("viewer")));
        Assert.False(await GrantsAsync(operate, User("agent")));
    }

    [Fact]
    public async Task Anonymous_callers_pass_no_policy()
    {
        Assert.False(await GrantsAsync(new PlatformRoleRequirement("viewer", "operator", "admin"), Anonymous));
        Assert.False(await GrantsAsync(new PlatformRoleRequirement("agent"), Anonymous));
    }
}
