using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Platform.Gateway.Audit;
using Platform.Gateway.Views;

namespace Platform.Gateway.Security;

/// <summary>
/// Seed 000's <c>/api/security</c> (admins): who can get in — users by role, live sessions and tokens —, what was
/// refused in the last 24 hours — failed logins, lockouts, requests refused for their token or role —, the TLS
/// certificate's expiry, the audit chain's last verification, and how each node's drivers isolate workloads.
/// </summary>
public sealed class SecurityView(SecurityFigures figures, AuditVerification verification, ServiceReads reads, IConfiguration configuration, TimeProvider clock)
{
    static readonly TimeSpan Window = TimeSpan.FromHours(24);
    static readonly TimeSpan VerifyEvery = TimeSpan.FromMinutes(10);
    readonly SemaphoreSlim verifying = new(1, 1);
    (AuditVerdict Verdict, DateTimeOffset At)? lastVerification;

    public async Task<JsonObject> ComposeAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var since = now - Window;
        var counts = await figures.CountAsync(since, now, ct);
        var lockouts = await figures.LockoutsAsync(since, ct);
        var (audit, auditAt) = await VerificationAsync(now, ct);
        var drivers = await ServiceReads.SectionAsync(reads.NodesAsync, Isolation, ct);
        return new JsonObject
        {
            ["generatedAtMs"] = $"{now.ToUnixTimeMilliseconds()}",
            ["users"] = new JsonObject
            {
                ["total"] = counts.Users, ["disabled"] = counts.DisabledUsers,
                ["byRole"] = new JsonObject { ["admin"] = counts.Admins, ["operator"] = counts.Operators, ["viewer"] = counts.Viewers },
            },
            ["sessions"] = new JsonObject { ["active"] = counts.ActiveSessions, ["users"] = counts.UsersWithSessions },
            ["tokens"] = new JsonObject { ["api"] = counts.LiveApiTokens, ["agent"] = counts.LiveAgentTokens },
            ["last24h"] = new JsonObject
            {
                ["failedLogins"] = counts.FailedLogins,
                ["refusedRequests"] = counts.RefusedRequests,
                ["lockedAccounts"] = counts.LockedInWindow,
                ["lockedNow"] = counts.LockedNow,
                ["lockouts"] = new JsonArray([.. lockouts.Select(l => (JsonNode)new JsonObject
                {
                    ["username"] = l.Username, ["failures"] = l.Failures, ["lastAttemptAtMs"] = $"{l.LastAttemptAt.ToUnixTimeMilliseconds()}",
                    ["lockedUntilMs"] = l.LockedUntil is { } until ? $"{until.ToUnixTimeMilliseconds()}" : null,
                })]),
            },
            ["certificate"] = Certificate(now),
            ["auditChain"] = new JsonObject
            {
                ["valid"] = audit.Valid, ["rows"] = $"{audit.Rows}", ["signedHeads"] = audit.SignedHeads,
                ["brokenAtSeq"] = audit.BrokenAtSeq is { } broken ? $"{broken}" : null, ["reason"] = audit.Reason,
                ["verifiedAtMs"] = $"{auditAt.ToUnixTimeMilliseconds()}",
            },
            ["drivers"] = drivers,
        };
    }

    /// <summary>The chain verified at most every ten minutes (it reads every row), once for all who ask meanwhile.</summary>
    async Task<(AuditVerdict, DateTimeOffset)> VerificationAsync(DateTimeOffset now, CancellationToken ct)
    {
        await verifying.WaitAsync(ct);
        try
        {
            if (lastVerification is not { } last || now - last.At > VerifyEvery)
                lastVerification = last = (await verification.VerifyAsync(ct), now);
            return last;
        }
        finally
        {
            verifying.Release();
        }
    }

    /// <summary>The HTTPS endpoint's certificate (what Kestrel was given), with its expiry; null fields when there is none.</summary>
    JsonObject Certificate(DateTimeOffset now)
    {
        var path = configuration["Kestrel:Endpoints:https:Certificate:Path"];
        if (string.IsNullOrEmpty(path)) return new JsonObject { ["configured"] = false, ["reason"] = "no HTTPS endpoint is configured" };
        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(path, configuration["Kestrel:Endpoints:https:Certificate:KeyPath"]);
            var expires = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
            return new JsonObject
            {
                ["configured"] = true, ["subject"] = certificate.Subject, ["issuer"] = certificate.Issuer,
                ["notAfterMs"] = $"{expires.ToUnixTimeMilliseconds()}", ["daysLeft"] = Math.Floor((expires - now).TotalDays),
                ["selfSigned"] = certificate.Subject == certificate.Issuer,
            };
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            return new JsonObject { ["configured"] = true, ["error"] = $"cannot read {path}: {ex.Message}" };
        }
    }

    /// <summary>Each node's drivers: available or why not, and what they say of their isolation (user, limits, namespaces).</summary>
    static JsonNode Isolation(Compute.V1.ListNodesResponse response) => new JsonArray([.. response.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal).Select(node =>
        (JsonNode)new JsonObject
        {
            ["node"] = node.Name,
            ["drivers"] = new JsonArray([.. node.Drivers.OrderBy(d => d.Name, StringComparer.Ordinal).Select(driver =>
            {
                var attributes = new JsonObject();
                foreach (var key in new[] { "isolation", "user", "limits", "memory", "cpu", "processes", "accelerator" })
                    if (driver.Attributes.TryGetValue(key, out var value)) attributes[key] = value;
                return (JsonNode)new JsonObject { ["name"] = driver.Name, ["available"] = driver.Available, ["reason"] = driver.Reason, ["isolation"] = attributes };
            })]),
        })]);
}
