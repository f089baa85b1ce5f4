using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Gateway.Security;

/// <summary>The identity figures seed 000's <c>/api/security</c> shows, counted in the gateway's own schema.</summary>
public sealed class SecurityFigures(NpgsqlDataSource db)
{
    public sealed record Counts
    {
        public long Users { get; init; }
        public long DisabledUsers { get; init; }
        public long Admins { get; init; }
        public long Operators { get; init; }
        public long Viewers { get; init; }
        public long ActiveSessions { get; init; }
        public long UsersWithSessions { get; init; }
        public long LiveApiTokens { get; init; }
        public long LiveAgentTokens { get; init; }
        public long FailedLogins { get; init; }
        public long RefusedRequests { get; init; }
        public long LockedNow { get; init; }
        public long LockedInWindow { get; init; }
    }

    public sealed record Lockout
    {
        public string Username { get; init; } = "";
        public int Failures { get; init; }
        public DateTimeOffset LastAttemptAt { get; init; }
        public DateTimeOffset? LockedUntil { get; init; }
    }

    /// <summary>
    /// Users by role; sessions alive (a refresh-token family with an unexpired, unrotated, unrevoked token); live API and
    /// agent tokens; in the window: failed logins (audit records of a login answered 401), requests refused for a bad or
    /// missing token or role (401/403 elsewhere), and accounts that were locked.
    /// </summary>
    public async Task<Counts> CountAsync(DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<Counts>("""
            SELECT
              (SELECT count(*) FROM identity.users) AS users,
              (SELECT count(*) FROM identity.users WHERE disabled) AS disabled_users,
              (SELECT count(*) FROM identity.users WHERE role = 'admin') AS admins,
              (SELECT count(*) FROM identity.users WHERE role = 'operator') AS operators,
              (SELECT count(*) FROM identity.users WHERE role = 'viewer') AS viewers,
              (SELECT count(DISTINCT family_id) FROM identity.refresh_tokens WHERE revoked_at IS NULL AND rotated_at IS NULL AND expires_at > @now) AS active_sessions,
              (SELECT count(DISTINCT username) FROM identity.refresh_tokens WHERE revoked_at IS NULL AND rotated_at IS NULL AND expires_at > @now) AS users_with_sessions,
              (SELECT count(*) FROM identity.api_tokens WHERE kind = 'api' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)) AS live_api_tokens,
              (SELECT count(*) FROM identity.api_tokens WHERE kind = 'agent' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)) AS live_agent_tokens,
              (SELECT count(*) FROM identity.audit_log WHERE at >= @since AND status = 401 AND action IN ('POST /api/auth/login', 'POST /auth/login')) AS failed_logins,
              (SELECT count(*) FROM identity.audit_log WHERE at >= @since AND status IN (401, 403) AND action NOT IN ('POST /api/auth/login', 'POST /auth/login')) AS refused_requests,
              (SELECT count(*) FROM identity.login_throttle WHERE locked_until > @now) AS locked_now,
              (SELECT count(*) FROM identity.login_throttle WHERE locked_until >= @since) AS locked_in_window
            """, new { since, now }, cancellationToken))!;

    /// <summary>Accounts locked in the window (locked now, or their lock ended in it), newest first, at most 100.</summary>
    public async Task<IReadOnlyList<Lockout>> LockoutsAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        await db.QueryAsync<Lockout>("""
            SELECT username, failures, last_attempt_at, locked_until FROM identity.login_throttle
            WHERE locked_until >= @since ORDER BY last_attempt_at DESC LIMIT 100
            """, new { since }, cancellationToken);
}
