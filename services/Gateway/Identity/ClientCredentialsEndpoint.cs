using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Identity;

/// <summary>
/// OAuth 2.0 client credentials (RFC 6749 §4.4) for the platform's services and NodeAgents: a registered client
/// exchanges its secret for a short-lived token with the client's role, whose subject is the client id — for an agent,
/// its node, so every agent RPC can check the node it acts for.
/// </summary>
public static class ClientCredentialsEndpoint
{
    public static void MapClientCredentials(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/auth/token", IssueAsync).AllowAnonymous().DisableAntiforgery();

    static async Task<IResult> IssueAsync(HttpRequest request, AccessTokens tokens, IOptions<IdentityOptions> options, AgentRevocations revocations,
        ILogger<AccessTokens> logger)
    {
        if (!request.HasFormContentType) return Error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        if (form["grant_type"] != "client_credentials") return Error(400, "unsupported_grant_type", "only client_credentials is granted here");
        var (clientId, secret) = Credentials(request, form);
        if (clientId is null || secret is null) return Error(400, "invalid_request", "client_id and client_secret are required (in the body or as HTTP Basic)");
        if (!options.Value.Clients.TryGetValue(clientId, out var client) || !Matches(secret, client.SecretSha256))
        {
            logger.LogWarning("Client credential refused for {ClientId}", clientId);
            return Error(401, "invalid_client", "unknown client or wrong secret");
        }
        if (client.Role == "agent" && await revocations.IsRevokedAsync(clientId))
        {
            logger.LogWarning("Client credential of {ClientId} refused: its node was rejected", clientId);
            return Error(401, "invalid_client", "this agent's node was rejected by an operator");
        }
        // RFC 8707-style: the caller names the audience it wants a token for; the platform's services unless told otherwise.
        var audience = form["audience"].FirstOrDefault() is { Length: > 0 } asked ? asked : PlatformTokens.Audience;
        if (audience != PlatformTokens.Audience && !PlatformTokens.IsNodeAgentAudience(audience))
            return Error(400, "invalid_target", $"audience must be {PlatformTokens.Audience} or node-agent:<node name>");
        var (token, lifetime) = tokens.ForClient(clientId, client.Role, audience);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return Results.Json(new Dictionary<string, object> { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = (int)lifetime.TotalSeconds });
    }

    static (string?, string?) Credentials(HttpRequest request, IFormCollection form)
    {
        if (request.Headers.Authorization.ToString() is { } header && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())).Split(':', 2);
                if (pair.Length == 2) return (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
            }
            catch (FormatException) { }
            return (null, null);
        }
        return (form["client_id"].FirstOrDefault(), form["client_secret"].FirstOrDefault());
    }

    static bool Matches(string secret, string expectedHex)
    {
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        byte[] expected;
        try { expected = Convert.FromHexString(expectedHex); }
        catch (FormatException) { return false; }
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    static IResult Error(int status, string error, string description) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);
}
