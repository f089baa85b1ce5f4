using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Tests;

/// <summary>The issuer's keys are fetched again a second after a failure, never minutes later.</summary>
public sealed class IssuerKeysTests
{
    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task<WebApplication> IssuerAsync(int port, Func<string> kid)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, string>
        {
            ["issuer"] = "platform", ["jwks_uri"] = $"http://127.0.0.1:{port}/.well-known/jwks.json",
        }));
        app.MapGet("/.well-known/jwks.json", () => Results.Text(
            $$"""{"keys":[{"kty":"EC","use":"sig","alg":"ES256","kid":"{{kid()}}","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}""",
            "application/json"));
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task An_issuer_that_was_down_at_the_first_request_is_used_as_soon_as_it_answers()
    {
        var port = FreePort();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var keys = new IssuerKeys($"http://127.0.0.1:{port}/.well-known/openid-configuration", clock);

        await Assert.ThrowsAsync<InvalidOperationException>(() => keys.GetConfigurationAsync(CancellationToken.None));
        await using var issuer = await IssuerAsync(port, () => "first");
        clock.Advance(TimeSpan.FromSeconds(1));
        var configuration = await keys.GetConfigurationAsync(CancellationToken.None);

        Assert.Equal("first", Assert.Single(configuration.SigningKeys).KeyId);
    }

    [Fact]
    public async Task Known_keys_stay_in_use_while_the_issuer_is_away_and_a_new_key_is_fetched_when_a_token_names_it()
    {
        var port = FreePort();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var kid = "first";
        var keys = new IssuerKeys($"http://127.0.0.1:{port}/.well-known/openid-configuration", clock);
        var issuer = await IssuerAsync(port, () => kid);
        await keys.GetConfigurationAsync(CancellationToken.None);
        await issuer.DisposeAsync();

        clock.Advance(TimeSpan.FromHours(2));
        var whileAway = await keys.GetConfigurationAsync(CancellationToken.None);
        kid = "rotated";
        await using var back = await IssuerAsync(port, () => kid);
        clock.Advance(TimeSpan.FromSeconds(10));
        keys.RequestRefresh();
        var afterRotation = await keys.GetConfigurationAsync(CancellationToken.None);

        Assert.Equal("first", Assert.Single(whileAway.SigningKeys).KeyId);
        Assert.Equal("rotated", Assert.Single(afterRotation.SigningKeys).KeyId);
    }
}
