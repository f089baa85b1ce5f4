using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Gateway.Identity;

/// <summary>
/// Per-account throttling of password attempts, whoever makes them and from wherever: from the third failure in a
/// row the account refuses attempts for 1 s, then 2, 4, … up to 15 minutes (a temporary lock an admin can lift; the
/// figures are <see cref="IdentityOptions"/>'s).
/// Each attempt is counted as a failure before its password is checked, in one statement, so concurrent guesses
/// cannot slip through between a check and its record; a success clears the count. Failures are forgotten after a
/// day without attempts.
/// </summary>
public sealed class LoginThrottle(NpgsqlDataSource db, IOptions<IdentityOptions> options, TimeProvider clock)
{
    /// <summary>Takes an attempt for the account, or says how long it must wait when it may not try now.</summary>
    public async Task<TimeSpan?> BeginAttemptAsync(string username, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var command = db.CreateCommand("""
            INSERT INTO identity.login_throttle AS t (username, failures, last_attempt_at, locked_until) VALUES ($1, 1, $2, NULL)
            ON CONFLICT (username) DO UPDATE SET
                failures = CASE WHEN t.last_attempt_at < $2 - interval '1 day' THEN 1 ELSE t.failures + 1 END,
                last_attempt_at = $2,
                locked_until = CASE WHEN t.last_attempt_at >= $2 - interval '1 day' AND t.failures + 1 > $3
                                    THEN $2 + make_interval(secs => least($4, $5 * power(2, t.failures + 1 - $3 - 1)))
                                    ELSE NULL END
            WHERE t.locked_until IS NULL OR t.locked_until <= $2
            RETURNING failures
            """);
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = options.Value.LoginFailuresBeforeWait });
        command.Parameters.Add(new() { Value = options.Value.LoginLongestWait.TotalSeconds });
        command.Parameters.Add(new() { Value = options.Value.LoginFirstWait.TotalSeconds });
        if (await command.ExecuteScalarAsync(cancellationToken) is not null) return null;

        await using var locked = db.CreateCommand("SELECT locked_until FROM identity.login_throttle WHERE username = $1");
        locked.Parameters.Add(new() { Value = username });
        return await locked.ExecuteScalarAsync(cancellationToken) is DateTime until ? new DateTimeOffset(until, TimeSpan.Zero) - now : TimeSpan.Zero;
    }

    /// <summary>The attempt succeeded: the account starts afresh.</summary>
    public Task SucceededAsync(string username, CancellationToken cancellationToken) => ClearAsync(username, cancellationToken);

    /// <summary>An admin lifts the lock; true when there was anything to lift.</summary>
    public async Task<bool> ClearAsync(string username, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("DELETE FROM identity.login_throttle WHERE username = $1");
        command.Parameters.Add(new() { Value = username });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
