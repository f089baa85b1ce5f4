using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Gateway.Audit;

namespace Platform.Gateway.Tests;

/// <summary>The audit log: what is recorded, how admins read it, and a chain that shows any row changed or removed.</summary>
public sealed class AuditTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    async Task<List<JsonElement>> EventsAsync(HttpClient admin, string query = "") =>
        [.. JsonDocument.Parse(await admin.GetStringAsync($"/api/audit{query}")).RootElement.GetProperty("events").EnumerateArray()];

    async Task<JsonElement> VerifyAsync(HttpClient admin)
    {
        using var response = await admin.PostAsync("/api/audit/verify", null);
        return JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.Clone();
    }

    async Task SqlAsync(string sql)
    {
        await using var db = NpgsqlDataSource.Create(gateway.Host.ConnectionString);
        await db.CreateCommand(sql).ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Logins_refusals_and_changes_are_recorded_with_who_what_status_and_the_request_id()
    {
        using (var failed = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "admin", password = "not the password" }) })
        {
            failed.Headers.Add("X-Request-Id", "req-42");
            using var response = await gateway.Anonymous().SendAsync(failed);
            Assert.Equal("req-42", response.Headers.GetValues("X-Request-Id").Single());
        }
        using var admin = await gateway.AdminAsync();
        using var viewer = await gateway.UserAsync("val", "viewer");
        (await viewer.PostAsJsonAsync("/api/auth/users", new { username = "x2", password = "a long enough password", role = "admin" })).Dispose();

        var events = await EventsAsync(admin);
        var failure = events.First(e => e.GetProperty("requestId").GetString() == "req-42");
        Assert.Equal(("admin", "POST /api/auth/login", 401), (failure.GetProperty("actor").GetString(), failure.GetProperty("action").GetString(), failure.GetProperty("status").GetInt32()));
        Assert.Contains(events, e => e.GetProperty("actor").GetString() == "admin" && e.GetProperty("action").GetString() == "POST /api/auth/users" && e.GetProperty("status").GetInt32() == 201);
        Assert.Contains(events, e => e.GetProperty("actor").GetString() == "val" && e.GetProperty("role").GetString() == "viewer" && e.GetProperty("status").GetInt32() == 403);
        Assert.All(events, e => Assert.NotEqual("", e.GetProperty("requestId").GetString()));

        Assert.All(await EventsAsync(admin, "?user=val"), e => Assert.Equal("val", e.GetProperty("actor").GetString()));
        var csv = await admin.GetStringAsync("/api/audit/export.csv?action=POST%20/api/auth/login");
        Assert.StartsWith("seq,at,actor,role,action,target,status,client_ip,user_agent,request_id\n", csv);
        Assert.Contains("req-42", csv);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/audit")).StatusCode);
        using var badPage = await admin.GetAsync("/api/audit?since=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);
    }

    [Fact]
    public async Task The_log_is_append_only_and_verify_finds_a_changed_or_removed_row()
    {
        using var admin = await gateway.AdminAsync();
        for (var i = 0; i < 3; i++) (await gateway.UserAsync($"user-{i}", "viewer")).Dispose();
        var intact = await VerifyAsync(admin);
        Assert.True(intact.GetProperty("valid").GetBoolean());
        Assert.True(intact.GetProperty("rows").GetInt64() >= 6);

        await Assert.ThrowsAsync<PostgresException>(() => SqlAsync("UPDATE identity.audit_log SET actor = 'nobody' WHERE seq = 2"));

        // A superuser can switch the guard off; the chain still tells.
        await SqlAsync("ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only; UPDATE identity.audit_log SET actor = 'nobody' WHERE seq = 2");
        var changed = await VerifyAsync(admin);
        Assert.False(changed.GetProperty("valid").GetBoolean());
        Assert.Equal(2, changed.GetProperty("brokenAtSeq").GetInt64());

        await SqlAsync("DELETE FROM identity.audit_log WHERE seq = 2");
        var removed = await VerifyAsync(admin);
        Assert.Equal(2, removed.GetProperty("brokenAtSeq").GetInt64());
        Assert.Contains("missing", removed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_tail_rewritten_with_every_hash_recomputed_still_disagrees_with_the_signed_head()
    {
        using var admin = await gateway.AdminAsync();
        (await gateway.UserAsync("tess", "viewer")).Dispose();
        var signed = await gateway.Host.Services.GetRequiredService<AuditHeads>().SignAsync(CancellationToken.None);
        Assert.NotNull(signed);

        // Rewrite the first row and recompute every hash after it, as someone who knows the scheme would.
        await using (var db = NpgsqlDataSource.Create(gateway.Host.ConnectionString))
        {
            await db.CreateCommand("ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only").ExecuteNonQueryAsync();
            await db.CreateCommand("UPDATE identity.audit_log SET actor = 'someone-else' WHERE seq = 1").ExecuteNonQueryAsync();
            var log = gateway.Host.Services.GetRequiredService<AuditLog>();
            var previous = AuditLog.Genesis;
            var rows = new List<(long Seq, byte[] Hash)>();
            await foreach (var (row, _) in log.ChainAsync(CancellationToken.None)) rows.Add((row.Seq, previous = row.Chain(previous)));
            foreach (var (seq, hash) in rows)
            {
                await using var update = db.CreateCommand("UPDATE identity.audit_log SET hash = $2 WHERE seq = $1");
                update.Parameters.Add(new() { Value = seq });
                update.Parameters.Add(new() { Value = hash });
                await update.ExecuteNonQueryAsync();
            }
        }

        var verdict = await VerifyAsync(admin);
        Assert.False(verdict.GetProperty("valid").GetBoolean());
        Assert.Equal(signed, verdict.GetProperty("brokenAtSeq").GetInt64());
        Assert.Contains("signed head", verdict.GetProperty("reason").GetString());
    }
}
