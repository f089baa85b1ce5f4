using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Platform.ServiceDefaults.Auth;

/// <summary>
/// This process's own token for calling others. With a client credential (<c>Auth:ClientId</c>,
/// <c>Auth:ClientSecret</c>) it is exchanged at the issuer (OAuth 2.0 client credentials) for a short-lived token,
/// kept until a fifth of its life is left and renewed then, one per audience (the platform's services, or NodeAgents);
/// otherwise the configured <c>Auth:Token</c> is sent as is.
/// </summary>
public sealed class ProcessCredential(AuthSettings settings, TimeProvider clock) : IDisposable
{
    readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };
    readonly SemaphoreSlim renewing = new(1, 1);
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Token, DateTimeOffset RenewAt)> current = new();

    public async ValueTask<string?> TokenAsync(CancellationToken cancellationToken, string audience = PlatformTokens.Audience)
    {
        if (settings.ClientId is not { Length: > 0 } clientId || settings.ClientSecret is not { Length: > 0 } secret) return settings.Token is { Length: > 0 } token ? token : null;
        if (current.TryGetValue(audience, out var held) && clock.GetUtcNow() < held.RenewAt) return held.Token;
        await renewing.WaitAsync(cancellationToken);
        try
        {
            if (current.TryGetValue(audience, out var fresh) && clock.GetUtcNow() < fresh.RenewAt) return fresh.Token;
            var endpoint = $"{settings.Authority?.TrimEnd('/') ?? throw new InvalidOperationException("Auth:ClientId is set without Auth:Authority (the issuer)")}/api/auth/token";
            using var response = await http.PostAsync(endpoint, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret, ["audience"] = audience,
            }), cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"The issuer refused this process's client credential: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            var answer = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken) ?? throw new HttpRequestException("The issuer answered with no token");
            current[audience] = (answer.AccessToken, clock.GetUtcNow() + TimeSpan.FromSeconds(answer.ExpiresIn * 0.8));
            return answer.AccessToken;
        }
        finally
        {
            renewing.Release();
        }
    }

    /// <summary>Forgets the held token (the callee refused it: the issuer's keys or the credential changed).</summary>
    public void Invalidate(string audience) => current.TryRemove(audience, out _);

    public void Dispose()
    {
        http.Dispose();
        renewing.Dispose();
    }

    sealed record TokenResponse([property: JsonPropertyName("access_token")] string AccessToken, [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
