using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Identity;

/// <summary>Mints the platform's access tokens: ES256 JWTs signed with the issuer's current key.</summary>
public sealed class AccessTokens(SigningKeys keys, IOptions<IdentityOptions> options, TimeProvider clock)
{
    readonly JsonWebTokenHandler handler = new();

    public (string Token, TimeSpan Lifetime) ForUser(string username, string role) => Issue(username, role, options.Value.AccessTokenLifetime);

    public (string Token, TimeSpan Lifetime) ForClient(string clientId, string role, string audience) =>
        Issue(clientId, role, options.Value.ClientTokenLifetime, audience);

    /// <summary>
    /// What an API or agent token becomes for one request through the gateway: long enough for a slow upload, no
    /// longer, and marked (<c>amr: token</c>) so the routes that need a person — making tokens, changing a password —
    /// can refuse it.
    /// </summary>
    public string ForExchange(string subject, string role) => Issue(subject, role, TimeSpan.FromMinutes(5), viaApiToken: true).Item1;

    public static bool CameFromApiToken(ClaimsPrincipal caller) => caller.HasClaim("amr", "token");

    (string, TimeSpan) Issue(string subject, string role, TimeSpan lifetime, string audience = PlatformTokens.Audience, bool viaApiToken = false)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = PlatformTokens.Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim(PlatformTokens.RoleClaim, role), new Claim("jti", Guid.NewGuid().ToString("N")),
                .. viaApiToken ? [new Claim("amr", "token")] : Array.Empty<Claim>()]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(keys.Current, SecurityAlgorithms.EcdsaSha256),
        });
        return (token, lifetime);
    }
}
