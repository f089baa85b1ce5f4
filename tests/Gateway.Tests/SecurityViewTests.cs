using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Gateway.Tests;

/// <summary>Seed 000's /api/security over the gateway's own identity data: admins only, and every figure counted from what happened.</summary>
public sealed class SecurityViewTests
{
    [Fact]
    public async Task Admins_see_users_sessions_failed_logins_lockouts_and_a_verified_audit_chain()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var admin = await gateway.AdminAsync();
        var viewer = await gateway.UserAsync("vera", "viewer");
        // Three wrong passwords for mallory: the third waits (a lock), and all three are failed logins.
        for (var i = 0; i < 3; i++)
            using (await gateway.Anonymous().PostAsJsonAsync("/api/auth/login", new { username = "mallory", password = "not the password" })) { }

        using var refused = await viewer.GetAsync("/api/security");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var security = JsonDocument.Parse(await admin.GetStringAsync("/api/security")).RootElement;

        Assert.Equal(2, security.GetProperty("users").GetProperty("total").GetInt32());
        Assert.Equal(1, security.GetProperty("users").GetProperty("byRole").GetProperty("viewer").GetInt32());
        Assert.True(security.GetProperty("sessions").GetProperty("active").GetInt32() >= 2); // the admin's and vera's
        var last24h = security.GetProperty("last24h");
        Assert.True(last24h.GetProperty("failedLogins").GetInt32() >= 3, last24h.ToString());
        Assert.Contains(last24h.GetProperty("lockouts").EnumerateArray(), l => l.GetProperty("username").GetString() == "mallory");
        Assert.True(security.GetProperty("auditChain").GetProperty("valid").GetBoolean());
        Assert.False(security.GetProperty("certificate").GetProperty("configured").GetBoolean());
        Assert.True(security.GetProperty("drivers").TryGetProperty("error", out _)); // no Compute behind this gateway
    }
}
