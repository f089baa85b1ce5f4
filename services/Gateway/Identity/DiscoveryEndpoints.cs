using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Identity;

/// <summary>The issuer's public face: its JWKS and an OpenID discovery document pointing at it and at the token endpoint.</summary>
public static class DiscoveryEndpoints
{
    public static void MapDiscovery(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", (SigningKeys keys, HttpResponse response) =>
        {
            response.Headers.CacheControl = "public, max-age=300";
            return Results.Text(System.Text.Json.JsonSerializer.Serialize(new { keys = keys.Jwks().Keys.Select(k => new { k.Kty, k.Use, k.Alg, k.Kid, k.Crv, k.X, k.Y }) },
                new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower }), "application/json");
        }).AllowAnonymous();
        app.MapGet("/.well-known/openid-configuration", (HttpRequest request) =>
        {
            var origin = $"{request.Scheme}://{request.Host}";
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = PlatformTokens.Issuer,
                ["jwks_uri"] = $"{origin}/.well-known/jwks.json",
                ["token_endpoint"] = $"{origin}/api/auth/token",
                ["grant_types_supported"] = new[] { "client_credentials" },
                ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
                ["id_token_signing_alg_values_supported"] = new[] { "ES256" },
            });
        }).AllowAnonymous();
    }
}
