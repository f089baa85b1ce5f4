using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Platform.ServiceDefaults.Auth;

/// <summary>Who is calling: the token's subject, or "anonymous" for a caller without a token.</summary>
public static class Callers
{
    public static string Name(ClaimsPrincipal user) => user.FindFirst("sub")?.Value ?? "anonymous";

    public static string Caller(this ServerCallContext context) => Name(context.GetHttpContext().User);

    /// <summary>
    /// Whether an agent's token speaks for <paramref name="agentId"/>: its subject is that id, or — a fleet's token,
    /// issued for a prefix such as <c>edge-*</c> — the id starts with the prefix.
    /// </summary>
    public static bool ActsFor(ClaimsPrincipal user, string agentId)
    {
        var subject = Name(user);
        return subject == agentId || subject.Length > 1 && subject[^1] == '*' && agentId.StartsWith(subject[..^1], StringComparison.Ordinal);
    }
}
