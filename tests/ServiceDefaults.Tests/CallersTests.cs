using System.Security.Claims;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Tests;

public sealed class CallersTests
{
    static ClaimsPrincipal Agent(string subject) => new(new ClaimsIdentity([new Claim("sub", subject), new Claim("role", "agent")], "Bearer"));

    [Theory]
    [InlineData("edge-1", "edge-1", true)]
    [InlineData("edge-1", "edge-2", false)]
    [InlineData("edge-*", "edge-7", true)]
    [InlineData("edge-*", "edge-", true)]
    [InlineData("edge-*", "core-1", false)]
    [InlineData("edge-*", "edge*", false)]
    [InlineData("*", "anything", false)] // a bare '*' is no prefix: it would speak for every agent
    public void An_agent_token_acts_for_its_id_or_every_id_with_its_fleets_prefix(string subject, string agentId, bool acts) =>
        Assert.Equal(acts, Callers.ActsFor(Agent(subject), agentId));
}
