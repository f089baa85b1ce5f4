using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Platform.Gateway.Tests;

/// <summary>API tokens (at most their creator's role) and agent tokens: shown once, stored as digests, exchanged at the door, revocable.</summary>
public sealed class ApiTokenTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task An_api_token_acts_as_its_user_with_at_most_the_users_role_and_stops_when_revoked()
    {
        using var viewer = await gateway.UserAsync("vic", "viewer");
        var (tooHigh, tooHighBody) = await GatewayHost.PostAsync(viewer, "/api/auth/tokens", new { name = "ci", role = "operator", expiresInDays = 30 });
        var (created, body) = await GatewayHost.PostAsync(viewer, "/api/auth/tokens", new { name = "ci", role = "viewer", expiresInDays = 30 });
        var token = body.GetProperty("token").GetString()!;

        Assert.Equal(HttpStatusCode.BadRequest, tooHigh);
        Assert.Contains("cannot exceed", tooHighBody.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Matches("^fogp_[0-9A-Za-z]{36}$", token);
        var me = JsonDocument.Parse(await gateway.As(token).GetStringAsync("/api/auth/me")).RootElement;
        Assert.Equal(("vic", "viewer"), (me.GetProperty("username").GetString(), me.GetProperty("role").GetString()));

        var listed = JsonDocument.Parse(await viewer.GetStringAsync("/api/auth/tokens")).RootElement.GetProperty("tokens")[0];
        Assert.Equal(token[..9] + "…", listed.GetProperty("display").GetString());
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("lastUsedAt").ValueKind);
        Assert.DoesNotContain(token, await viewer.GetStringAsync("/api/auth/tokens"));
        await using (var db = NpgsqlDataSource.Create(gateway.Host.ConnectionString))
            Assert.Equal(0L, (long)(await db.CreateCommand($"SELECT count(*) FROM identity.api_tokens WHERE display LIKE '%{token[9..]}%'").ExecuteScalarAsync())!);

        using var revoke = await viewer.DeleteAsync($"/api/auth/tokens/{listed.GetProperty("tokenId").GetString()}");
        using var afterRevoke = await gateway.As(token).GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);
    }

    [Fact]
    public async Task A_demoted_users_token_loses_the_role_and_a_mistyped_token_is_refused_unseen()
    {
        using var admin = await gateway.AdminAsync();
        using var ada = await gateway.UserAsync("ada", "admin");
        var token = (await GatewayHost.PostAsync(ada, "/api/auth/tokens", new { name = "ops", role = "admin" })).Body.GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await gateway.As(token).GetAsync("/api/auth/users")).StatusCode);

        (await admin.PutAsJsonAsync("/api/auth/users/ada", new { role = "viewer" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.As(token).GetAsync("/api/auth/users")).StatusCode);

        var mistyped = token[..^1] + (token[^1] == 'a' ? 'b' : 'a');
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.As(mistyped).GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task Only_admins_issue_agent_tokens_and_an_agent_token_acts_as_its_agent()
    {
        using var admin = await gateway.AdminAsync();
        using var operatorUser = await gateway.UserAsync("opal", "operator");
        var (refused, _) = await GatewayHost.PostAsync(operatorUser, "/api/auth/agents", new { agentId = "edge-1", name = "edge" });
        var (invalid, invalidBody) = await GatewayHost.PostAsync(admin, "/api/auth/agents", new { agentId = "bad id/../", name = "" });
        var (created, body) = await GatewayHost.PostAsync(admin, "/api/auth/agents", new { agentId = "edge-1", name = "edge gateway", expiresInDays = 90 });

        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Assert.Equal(["name", "agentId"], invalidBody.GetProperty("details")[0].GetProperty("fieldViolations").EnumerateArray().Select(v => v.GetProperty("field").GetString()));
        Assert.Equal(HttpStatusCode.Created, created);
        var token = body.GetProperty("token").GetString()!;
        Assert.StartsWith("foga_", token);
        var me = JsonDocument.Parse(await gateway.As(token).GetStringAsync("/api/auth/me")).RootElement;
        Assert.Equal(("edge-1", "agent"), (me.GetProperty("username").GetString(), me.GetProperty("role").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.As(token).GetAsync("/api/auth/users")).StatusCode);
    }

    [Fact]
    public async Task A_fleet_token_is_issued_for_a_prefix_and_a_bare_star_is_refused()
    {
        using var admin = await gateway.AdminAsync();
        var (created, body) = await GatewayHost.PostAsync(admin, "/api/auth/agents", new { agentId = "edge-*", name = "edge fleet" });
        var (bare, _) = await GatewayHost.PostAsync(admin, "/api/auth/agents", new { agentId = "*", name = "everyone" });
        var (inner, _) = await GatewayHost.PostAsync(admin, "/api/auth/agents", new { agentId = "ed*ge", name = "odd" });

        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("edge-*", body.GetProperty("details").GetProperty("subject").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, bare);
        Assert.Equal(HttpStatusCode.BadRequest, inner);
    }

    [Fact]
    public async Task An_api_token_makes_no_tokens_changes_no_password_and_dies_with_its_user()
    {
        using var admin = await gateway.AdminAsync();
        using var ivy = await gateway.UserAsync("ivy", "operator");
        var token = (await GatewayHost.PostAsync(ivy, "/api/auth/tokens", new { name = "ci", role = "operator" })).Body.GetProperty("token").GetString()!;
        using var viaToken = gateway.As(token);

        var (child, _) = await GatewayHost.PostAsync(viaToken, "/api/auth/tokens", new { name = "forever", role = "operator" });
        var (password, _) = await GatewayHost.PostAsync(viaToken, "/api/auth/password", new { currentPassword = "a long enough password", newPassword = "mine now, all mine" });
        Assert.Equal(HttpStatusCode.Forbidden, child);
        Assert.Equal(HttpStatusCode.Forbidden, password);

        (await admin.DeleteAsync("/api/auth/users/ivy")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, (await viaToken.GetAsync("/api/auth/me")).StatusCode);
        // Nor can another person take the name and with it what was ivy's.
        using var again = await admin.PostAsJsonAsync("/api/auth/users", new { username = "ivy", password = "a long enough password", role = "operator" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }
}
