using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Platform.Gateway.Tests;

/// <summary>Login, refresh rotation with reuse detection, logout, and the stored password hash.</summary>
public sealed class LoginTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task A_login_returns_a_short_lived_access_token_and_a_refresh_token_and_me_says_who()
    {
        var login = await gateway.LoginAsync("admin", GatewayHost.AdminPassword);

        Assert.Equal("Bearer", login.GetProperty("tokenType").GetString());
        Assert.Equal(900, login.GetProperty("expiresIn").GetInt32());
        Assert.StartsWith("rt_", login.GetProperty("refreshToken").GetString());
        Assert.Equal(("admin", "admin"), (login.GetProperty("user").GetProperty("username").GetString(), login.GetProperty("user").GetProperty("role").GetString()));
        var me = JsonDocument.Parse(await gateway.As(login.GetProperty("accessToken").GetString()!).GetStringAsync("/api/auth/me")).RootElement;
        Assert.Equal("admin", me.GetProperty("role").GetString());
        // Seed 002's path answers the same way.
        var (status, _) = await GatewayHost.PostAsync(gateway.Anonymous(), "/auth/login", new { username = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_wrong_password_or_unknown_user_is_401_alike_and_bad_input_names_the_field()
    {
        var wrong = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/login", new { username = "admin", password = "not the password" });
        var unknown = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/login", new { username = "nobody", password = "not the password" });
        var missing = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/login", new { username = "admin" });
        using var malformed = await gateway.Anonymous().PostAsync("/api/auth/login", new StringContent("not json", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal(wrong.Body.GetProperty("message").GetString(), unknown.Body.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Equal("password", missing.Body.GetProperty("details")[0].GetProperty("fieldViolations")[0].GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("\"field\":\"body\"", await malformed.Content.ReadAsStringAsync());
        using var me = await gateway.Anonymous().GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task Every_refresh_rotates_and_presenting_a_rotated_token_again_revokes_the_whole_family()
    {
        var first = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("refreshToken").GetString()!;
        var other = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("refreshToken").GetString()!;

        var (status, rotated) = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/refresh", new { refreshToken = first });
        Assert.Equal(HttpStatusCode.OK, status);
        var second = rotated.GetProperty("refreshToken").GetString()!;
        Assert.NotEqual(first, second);
        Assert.NotEqual("", rotated.GetProperty("accessToken").GetString());

        var (replayed, _) = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/refresh", new { refreshToken = first });
        var (successor, _) = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/refresh", new { refreshToken = second });
        var (otherSession, _) = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/refresh", new { refreshToken = other });

        Assert.Equal(HttpStatusCode.Unauthorized, replayed);
        Assert.Equal(HttpStatusCode.Unauthorized, successor); // the thief's copy dies with the family
        Assert.Equal(HttpStatusCode.OK, otherSession);        // another login is another family
    }

    [Fact]
    public async Task Concurrent_refreshes_with_one_token_yield_one_success()
    {
        var token = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("refreshToken").GetString()!;

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/refresh", new { refreshToken = token })));

        Assert.Equal(1, results.Count(r => r.Status == HttpStatusCode.OK));
    }

    [Fact]
    public async Task Logout_revokes_the_family()
    {
        var login = await gateway.LoginAsync("admin", GatewayHost.AdminPassword);
        var token = login.GetProperty("refreshToken").GetString()!;

        using var logout = await gateway.Anonymous().PostAsJsonAsync("/api/auth/logout", new { refreshToken = token });
        var (refresh, _) = await GatewayHost.PostAsync(gateway.Anonymous(), "/api/auth/refresh", new { refreshToken = token });

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh);
    }

    [Fact]
    public async Task Passwords_are_stored_as_argon2id_phc_strings_and_weaker_hashes_are_upgraded_at_login()
    {
        await using var db = NpgsqlDataSource.Create(gateway.Host.ConnectionString);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", (string)(await db.CreateCommand("SELECT password_hash FROM identity.users WHERE username = 'admin'").ExecuteScalarAsync())!);

        // The same password hashed at lower cost, as an older release would have stored it.
        var weaker = WeakerHash(GatewayHost.AdminPassword);
        await using (var downgrade = db.CreateCommand("UPDATE identity.users SET password_hash = $1 WHERE username = 'admin'"))
        {
            downgrade.Parameters.Add(new() { Value = weaker });
            await downgrade.ExecuteNonQueryAsync();
        }
        await gateway.LoginAsync("admin", GatewayHost.AdminPassword);

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", (string)(await db.CreateCommand("SELECT password_hash FROM identity.users WHERE username = 'admin'").ExecuteScalarAsync())!);
    }

    static string WeakerHash(string password)
    {
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var hash = NSec.Cryptography.PasswordBasedKeyDerivationAlgorithm.Argon2id(new NSec.Cryptography.Argon2Parameters { DegreeOfParallelism = 1, MemorySize = 8192, NumberOfPasses = 1 })
            .DeriveBytes(password, salt, 32);
        return $"$argon2id$v=19$m=8192,t=1,p=1${Convert.ToBase64String(salt).TrimEnd('=')}${Convert.ToBase64String(hash).TrimEnd('=')}";
    }
}
