using Npgsql;

namespace Platform.Gateway.Identity;

/// <summary>A platform user as stored.</summary>
public sealed record User(string Username, string PasswordHash, string Role, bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Users in <c>identity.users</c>. Usernames are unique by primary key; every change is one statement.</summary>
public sealed class UserStore(NpgsqlDataSource db)
{
    const string Columns = "username, password_hash, role, disabled, created_at, updated_at";

    public async Task<User?> FindAsync(string username, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM identity.users WHERE username = $1");
        command.Parameters.Add(new() { Value = username });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM identity.users ORDER BY username");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var users = new List<User>();
        while (await reader.ReadAsync(cancellationToken)) users.Add(Read(reader));
        return users;
    }

    /// <summary>
    /// Creates the user; false when the name is taken or was a deleted user's (the primary key decides, so concurrent
    /// creates cannot both win).
    /// </summary>
    public async Task<bool> CreateAsync(string username, string passwordHash, string role, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            INSERT INTO identity.users (username, password_hash, role)
            SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM identity.retired_usernames WHERE username = $1)
            ON CONFLICT (username) DO NOTHING
            """);
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = passwordHash });
        command.Parameters.Add(new() { Value = role });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<User?> UpdateAsync(string username, string? role, bool? disabled, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            UPDATE identity.users SET role = coalesce($2, role), disabled = coalesce($3, disabled), updated_at = now()
            WHERE username = $1 RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = (object?)role ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)disabled ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Boolean });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<bool> SetPasswordAsync(string username, string passwordHash, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE identity.users SET password_hash = $2, updated_at = now() WHERE username = $1");
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = passwordHash });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Deletes the user (its refresh tokens go with it, by cascade) and retires its name, in one statement.</summary>
    public async Task<bool> DeleteAsync(string username, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            WITH deleted AS (DELETE FROM identity.users WHERE username = $1 RETURNING username)
            INSERT INTO identity.retired_usernames (username) SELECT username FROM deleted ON CONFLICT (username) DO NOTHING
            """);
        command.Parameters.Add(new() { Value = username });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    static User Read(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5));
}
