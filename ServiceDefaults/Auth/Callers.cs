using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Platform.ServiceDefaults.Auth;

/// <summary>Who is calling: the token's subject, or "anonymous" for a caller without a token.</summary>
public static class Callers
{
    public static string Name(ClaimsPrincipal user) => user.FindFirst("sub")?.Value ?? "anonymous";

    public static string Caller(this ServerCallContext context) => Name(context.GetHttpContext().User);
}
