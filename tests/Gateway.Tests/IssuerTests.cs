using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.TestSupport;

namespace Platform.Gateway.Tests;

/// <summary>Client credentials for services and agents, and ES256 tokens any service can check with the JWKS alone.</summary>
public sealed class IssuerTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    async Task<(HttpStatusCode Status, JsonElement Body)> ExchangeAsync(Dictionary<string, string> form, AuthenticationHeaderValue? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = basic;
        using var response = await gateway.Anonymous().SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task A_client_credential_is_exchanged_for_an_hour_long_token_bound_to_its_client()
    {
        var (status, body) = await ExchangeAsync(new() { ["grant_type"] = "client_credentials", ["client_id"] = GatewayHost.AgentId, ["client_secret"] = GatewayHost.AgentSecret });
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{GatewayHost.AgentId}:{GatewayHost.AgentSecret}")));
        var (basicStatus, _) = await ExchangeAsync(new() { ["grant_type"] = "client_credentials" }, basic);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, basicStatus);
        Assert.Equal(("Bearer", 3600), (body.GetProperty("token_type").GetString(), body.GetProperty("expires_in").GetInt32()));
        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal(("ES256", GatewayHost.AgentId, "agent"), (token.Alg, token.Subject, token.GetClaim("role").Value));
    }

    [Fact]
    public async Task A_wrong_secret_an_unknown_client_or_another_grant_is_refused()
    {
        var (wrong, wrongBody) = await ExchangeAsync(new() { ["grant_type"] = "client_credentials", ["client_id"] = GatewayHost.AgentId, ["client_secret"] = "guess" });
        var (unknown, _) = await ExchangeAsync(new() { ["grant_type"] = "client_credentials", ["client_id"] = "node-8", ["client_secret"] = GatewayHost.AgentSecret });
        var (password, passwordBody) = await ExchangeAsync(new() { ["grant_type"] = "password", ["username"] = "admin", ["password"] = GatewayHost.AdminPassword });

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrong, wrongBody.GetProperty("error").GetString()));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown);
        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), (password, passwordBody.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_rejected_nodes_agent_can_no_longer_exchange_its_credential()
    {
        await gateway.Host.Services.GetRequiredService<Platform.ServiceDefaults.Auth.AgentRevocations>().RevokeAsync(GatewayHost.AgentId);
        try
        {
            var (status, body) = await ExchangeAsync(new() { ["grant_type"] = "client_credentials", ["client_id"] = GatewayHost.AgentId, ["client_secret"] = GatewayHost.AgentSecret });
            Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (status, body.GetProperty("error").GetString()));
            Assert.Contains("rejected", body.GetProperty("error_description").GetString());
        }
        finally
        {
            await gateway.Host.Services.GetRequiredService<Platform.ServiceDefaults.Auth.AgentRevocations>().RestoreAsync(GatewayHost.AgentId);
        }
    }

    [Fact]
    public async Task The_jwks_validates_the_issuers_tokens_and_nothing_signed_elsewhere()
    {
        var jwks = new JsonWebKeySet(await gateway.Anonymous().GetStringAsync("/.well-known/jwks.json"));
        var discovery = JsonDocument.Parse(await gateway.Anonymous().GetStringAsync("/.well-known/openid-configuration")).RootElement;
        var issued = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("accessToken").GetString()!;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = "platform", ValidAudience = "platform", IssuerSigningKeys = jwks.GetSigningKeys(), ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        };

        Assert.EndsWith("/.well-known/jwks.json", discovery.GetProperty("jwks_uri").GetString());
        Assert.All(jwks.Keys, key => Assert.Null(key.D)); // public halves only
        Assert.True((await new JsonWebTokenHandler().ValidateTokenAsync(issued, parameters)).IsValid);
        Assert.False((await new JsonWebTokenHandler().ValidateTokenAsync(TestTokens.Issue("admin", "admin"), parameters)).IsValid);

        // The gateway itself accepts its own tokens and refuses a forged one on its own routes.
        using var forged = await gateway.As(TestTokens.Issue("admin", "admin")).GetAsync("/api/auth/users");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
    }

    [Fact]
    public async Task The_signing_key_lives_in_its_folder_readable_by_its_owner_only()
    {
        (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("accessToken").GetString();
        var folder = gateway.Host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Identity.IdentityOptions>>().Value.KeyDirectory;

        var files = Directory.GetFiles(folder, "*.pem");
        Assert.Single(files);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files[0]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
    }
}
