using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Platform.ServiceDefaults.Auth;

/// <summary>
/// The issuer's discovery document and keys, as JWT validation asks for them. Fetched when first needed; again when a
/// token names a key not seen yet (at most every 10 s) and hourly. A failed fetch never leaves this process refusing
/// tokens for longer than a second: with nothing fetched yet, the next request tries again; with keys already known,
/// they stay in use until a fetch succeeds. (The library's own manager backs off for minutes after a first failure —
/// an issuer still starting, or a gateway restarting, would lock every caller out for that long.)
/// </summary>
public sealed class IssuerKeys(string discoveryUrl, TimeProvider clock, ILogger? logger = null) : IConfigurationManager<OpenIdConnectConfiguration>
{
    static readonly TimeSpan RefreshEvery = TimeSpan.FromHours(1);
    static readonly TimeSpan RefreshOnRequestAfter = TimeSpan.FromSeconds(10);
    static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    readonly HttpDocumentRetriever retriever = new() { RequireHttps = false };
    readonly SemaphoreSlim fetching = new(1, 1);
    OpenIdConnectConfiguration? current;
    DateTimeOffset fetchedAt = DateTimeOffset.MinValue, failedAt = DateTimeOffset.MinValue;
    bool refreshRequested;

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        if (current is { } known && !Due()) return known;
        await fetching.WaitAsync(cancel);
        try
        {
            if (current is { } fresh && !Due()) return fresh;
            if (current is null && clock.GetUtcNow() - failedAt < RetryAfterFailure)
                throw new InvalidOperationException($"The issuer's keys could not be fetched from {discoveryUrl} a moment ago; retrying shortly");
            try
            {
                current = await OpenIdConnectConfigurationRetriever.GetAsync(discoveryUrl, retriever, cancel);
                fetchedAt = clock.GetUtcNow();
                refreshRequested = false;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException or ArgumentException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                failedAt = clock.GetUtcNow();
                refreshRequested = false;
                logger?.LogWarning("The issuer's keys could not be fetched from {Url}: {Reason}", discoveryUrl, ex.Message);
                if (current is null) throw new InvalidOperationException($"The issuer's keys could not be fetched from {discoveryUrl}: {ex.Message}", ex);
                // Keep the keys known so far; try again after the pause.
                fetchedAt = failedAt - RefreshEvery + RetryAfterFailure;
            }
            return current;
        }
        finally
        {
            fetching.Release();
        }
    }

    /// <summary>A token named a key not known yet: fetch again, unless that was done in the last 10 seconds.</summary>
    public void RequestRefresh()
    {
        if (clock.GetUtcNow() - fetchedAt >= RefreshOnRequestAfter) refreshRequested = true;
    }

    bool Due() => refreshRequested || clock.GetUtcNow() - fetchedAt >= RefreshEvery;
}
