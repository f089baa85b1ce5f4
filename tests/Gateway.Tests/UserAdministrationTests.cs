using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Gateway.Tests;

/// <summary>Users managed by admins; a user's own password; self-registration off by default.</summary>
public sealed class UserAdministrationTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task Only_admins_manage_users_and_bad_fields_are_named()
    {
        using var admin = await gateway.AdminAsync();
        using var viewer = await gateway.UserAsync("vera", "viewer");

        using var byViewer = await viewer.PostAsJsonAsync("/api/auth/users", new { username = "x1", password = "a long enough password", role = "viewer" });
        using var byAnonymous = await gateway.Anonymous().GetAsync("/api/auth/users");
        using var invalid = await admin.PostAsJsonAsync("/api/auth/users", new { username = "Bad Name", password = "short", role = "root" });
        using var duplicate = await admin.PostAsJsonAsync("/api/auth/users", new { username = "vera", password = "a long enough password", role = "viewer" });

        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byAnonymous.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var fields = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync()).RootElement.GetProperty("details")[0].GetProperty("fieldViolations")
            .EnumerateArray().Select(v => v.GetProperty("field").GetString()).ToList();
        Assert.Equal(["username", "password", "role"], fields);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        using var reserved = await admin.PostAsJsonAsync("/api/auth/users", new { username = "anonymous", password = "a long enough password", role = "viewer" });
        Assert.Equal(HttpStatusCode.BadRequest, reserved.StatusCode);
        var listed = JsonDocument.Parse(await admin.GetStringAsync("/api/auth/users")).RootElement.GetProperty("users").EnumerateArray()
            .Select(u => (u.GetProperty("username").GetString(), u.GetProperty("role").GetString())).ToList();
        Assert.Equal([("admin", "admin"), ("vera", "viewer")], listed);
        Assert.DoesNotContain("password", await admin.GetStringAsync("/api/auth/users"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_role_change_or_disabling_ends_the_users_sessions_and_a_disabled_user_cannot_log_in()
    {
        using var admin = await gateway.AdminAsync();
        (await gateway.UserAsync("otto", "viewer")).Dispose();
        var session = (await gateway.LoginAsync("otto", "a long enough password")).GetProperty("refreshToken").GetString()!;

        using var promoted = await admin.PutAsJsonAsync("/api/auth/users/otto", new { role = "operator" });
        using var refreshed = await gateway.Anonymous().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session });
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refreshed.StatusCode);
        Assert.Equal("operator", (await gateway.LoginAsync("otto", "a long enough password")).GetProperty("user").GetProperty("role").GetString());

        using var disabled = await admin.PutAsJsonAsync("/api/auth/users/otto", new { disabled = true });
        using var login = await gateway.Anonymous().PostAsJsonAsync("/api/auth/login", new { username = "otto", password = "a long enough password" });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);

        using var selfDemotion = await admin.PutAsJsonAsync("/api/auth/users/admin", new { role = "viewer" });
        using var deleted = await admin.DeleteAsync("/api/auth/users/otto");
        using var missing = await admin.DeleteAsync("/api/auth/users/otto");
        Assert.Equal(HttpStatusCode.BadRequest, selfDemotion.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // A deleted user's name is never given again: whatever is keyed on it elsewhere (tokens, jobs) stays theirs.
        using var reused = await admin.PostAsJsonAsync("/api/auth/users", new { username = "otto", password = "another long password", role = "viewer" });
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
    }

    [Fact]
    public async Task Changing_ones_password_keeps_this_session_and_revokes_the_others()
    {
        (await gateway.UserAsync("pia", "viewer")).Dispose();
        var current = await gateway.LoginAsync("pia", "a long enough password");
        var elsewhere = (await gateway.LoginAsync("pia", "a long enough password")).GetProperty("refreshToken").GetString()!;
        using var pia = gateway.As(current.GetProperty("accessToken").GetString()!);

        using var wrong = await pia.PostAsJsonAsync("/api/auth/password", new { currentPassword = "not it at all", newPassword = "another long password" });
        using var changed = await pia.PostAsJsonAsync("/api/auth/password", new
        {
            currentPassword = "a long enough password", newPassword = "another long password", refreshToken = current.GetProperty("refreshToken").GetString(),
        });
        using var here = await gateway.Anonymous().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = current.GetProperty("refreshToken").GetString() });
        using var there = await gateway.Anonymous().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = elsewhere });

        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, here.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, there.StatusCode);
        await gateway.LoginAsync("pia", "another long password");
    }

    [Fact]
    public async Task Self_registration_is_off_unless_enabled_and_then_makes_viewers()
    {
        using var refused = await gateway.Anonymous().PostAsJsonAsync("/auth/register", new { username = "sam", password = "a long enough password" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        await using var open = await GatewayHost.StartAsync(new Dictionary<string, string> { ["Gateway:Auth:SelfRegistration"] = "true" });
        using var registered = await open.Anonymous().PostAsJsonAsync("/auth/register", new { username = "sam", password = "a long enough password" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        Assert.Equal("viewer", (await open.LoginAsync("sam", "a long enough password")).GetProperty("user").GetProperty("role").GetString());
    }
}
