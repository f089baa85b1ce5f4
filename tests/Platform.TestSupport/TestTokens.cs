using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.ServiceDefaults.Auth;

namespace Platform.TestSupport;

/// <summary>
/// An issuer for component tests: an ES256 key of the test process's own, whose public half services hosted by
/// <see cref="ServiceHost{TProgram}"/> trust (<c>Auth:Jwks</c>), as services trust the gateway's.
/// </summary>
public static class TestTokens
{
    static readonly ECDsaSecurityKey Key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "test" };

    /// <summary>The public key as a JWK set.</summary>
    public static string Jwks { get; } = System.Text.Json.JsonSerializer.Serialize(new
    {
        keys = new[] { JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(Key.ECDsa.ExportParameters(false))) { KeyId = "test" }) }
            .Select(k => new { kty = k.Kty, kid = k.Kid, crv = k.Crv, x = k.X, y = k.Y, use = "sig", alg = "ES256" }),
    });

    public static string Issue(string subject, string role, TimeSpan? lifetime = null, TimeProvider? clock = null, ECDsaSecurityKey? key = null,
        string audience = PlatformTokens.Audience)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = PlatformTokens.Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim(PlatformTokens.RoleClaim, role)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromHours(1)),
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
