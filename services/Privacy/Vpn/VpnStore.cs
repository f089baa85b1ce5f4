using System.Net;
using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Privacy.Vpn;

/// <summary>
/// The VPN tables. Every change that hands out an address takes one transaction-scoped lock, so two peers never
/// draw the same address and prefix checks see every committed peer; a failed step leaves nothing behind.
/// </summary>
public sealed class VpnStore(NpgsqlDataSource db)
{
    public sealed class PeerRow
    {
        public Guid PeerId { get; init; }
        public string Name { get; init; } = "";
        public string Owner { get; init; } = "";
        public string? Endpoint { get; init; }
        public string[] AllowedIps { get; init; } = [];
        public bool PresharedKey { get; init; }
        public int RotationHours { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset? RevokedAt { get; init; }
    }

    public sealed class KeyRow
    {
        public Guid PeerId { get; init; }
        public int Generation { get; init; }
        public string PublicKey { get; init; } = "";
        public string Address { get; init; } = "";
        public bool PrivateKeyPending { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset? RetiresAt { get; init; }
    }

    public sealed record NewKey(string PublicKey, Func<Guid, int, byte[]?> SealPrivateKey);

    const string PeerColumns = """
        peer_id AS PeerId, name, owner, endpoint, allowed_ips::text[] AS AllowedIps, preshared_key AS PresharedKey,
        rotation_hours AS RotationHours, created_at AS CreatedAt, revoked_at AS RevokedAt
        """;
    const string KeyColumns = """
        peer_id AS PeerId, generation, public_key AS PublicKey, host(address) AS Address, sealed_private_key IS NOT NULL AS PrivateKeyPending,
        created_at AS CreatedAt, retires_at AS RetiresAt
        """;

    public async Task<IReadOnlyList<PeerRow>> PeersAsync(string? owner, CancellationToken cancellationToken) =>
        await db.QueryAsync<PeerRow>($"SELECT {PeerColumns} FROM privacy.vpn_peers WHERE (@owner::text IS NULL OR owner = @owner) ORDER BY created_at, name",
            new { owner }, cancellationToken);

    public async Task<PeerRow?> PeerAsync(Guid peerId, CancellationToken cancellationToken) =>
        await db.QuerySingleOrDefaultAsync<PeerRow>($"SELECT {PeerColumns} FROM privacy.vpn_peers WHERE peer_id = @peerId", new { peerId }, cancellationToken);

    /// <summary>Every key of every active peer (the current ones and those in their overlap).</summary>
    public async Task<IReadOnlyList<KeyRow>> ActiveKeysAsync(CancellationToken cancellationToken) =>
        await db.QueryAsync<KeyRow>($"""
            SELECT {KeyColumns} FROM privacy.vpn_keys k WHERE EXISTS (SELECT 1 FROM privacy.vpn_peers p WHERE p.peer_id = k.peer_id AND p.revoked_at IS NULL)
            ORDER BY peer_id, generation DESC
            """, null, cancellationToken);

    public async Task<IReadOnlyList<(Guid Other, byte[] Sealed)>> PresharedKeysAsync(Guid peerId, CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<PresharedRow>("""
            SELECT CASE WHEN peer_low = @peerId THEN peer_high ELSE peer_low END AS Other, sealed AS Sealed
            FROM privacy.vpn_preshared_keys WHERE peer_low = @peerId OR peer_high = @peerId
            """, new { peerId }, cancellationToken)).Select(r => (r.Other, r.Sealed))];

    sealed class PresharedRow
    {
        public Guid Other { get; init; }
        public byte[] Sealed { get; init; } = [];
    }

    /// <summary>A new peer with its first key and address; refused when its name is taken or its prefixes overlap.</summary>
    public Task<PeerRow> CreateAsync(PeerRow peer, NewKey key, IPNetwork pool, Func<Guid, Guid, byte[]> sealPreshared, DateTimeOffset now, CancellationToken cancellationToken) =>
        InLockAsync(async (connection, transaction) =>
        {
            if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM privacy.vpn_peers WHERE name = @Name AND revoked_at IS NULL)", peer, transaction, cancellationToken: cancellationToken)))
                throw new DuplicateException("PEER_NAME_TAKEN", $"a peer named {peer.Name} exists already");
            var overlapping = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition("""
                SELECT p.name FROM privacy.vpn_peers p, unnest(p.allowed_ips) a
                WHERE p.revoked_at IS NULL AND a && ANY(@ips::cidr[]) LIMIT 1
                """, new { ips = peer.AllowedIps }, transaction, cancellationToken: cancellationToken));
            if (overlapping is not null) throw new InvalidFieldException("allowed_ips", $"overlaps a prefix already routed to peer {overlapping}");
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO privacy.vpn_peers (peer_id, name, owner, endpoint, allowed_ips, preshared_key, rotation_hours, created_at)
                VALUES (@PeerId, @Name, @Owner, @Endpoint, @AllowedIps::cidr[], @PresharedKey, @RotationHours, @CreatedAt)
                """, peer, transaction, cancellationToken: cancellationToken));
            await InsertKeyAsync(connection, transaction, peer.PeerId, 1, key, pool, now, cancellationToken);
            if (peer.PresharedKey)
            {
                var others = await connection.QueryAsync<Guid>(new CommandDefinition(
                    "SELECT peer_id FROM privacy.vpn_peers WHERE preshared_key AND revoked_at IS NULL AND peer_id <> @PeerId", peer, transaction, cancellationToken: cancellationToken));
                foreach (var other in others)
                {
                    var (low, high) = peer.PeerId.CompareTo(other) < 0 ? (peer.PeerId, other) : (other, peer.PeerId);
                    await connection.ExecuteAsync(new CommandDefinition("INSERT INTO privacy.vpn_preshared_keys (peer_low, peer_high, sealed) VALUES (@low, @high, @sealed)",
                        new { low, high, @sealed = sealPreshared(low, high) }, transaction, cancellationToken: cancellationToken));
                }
            }
            return peer;
        }, cancellationToken);

    /// <summary>A new key generation with its own address; the keys before it retire at <paramref name="retiresAt"/>.</summary>
    public Task<int> RotateAsync(Guid peerId, NewKey key, IPNetwork pool, DateTimeOffset now, DateTimeOffset retiresAt, CancellationToken cancellationToken) =>
        InLockAsync(async (connection, transaction) =>
        {
            var generation = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT coalesce(max(generation), 0) + 1 FROM privacy.vpn_keys WHERE peer_id = @peerId", new { peerId }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE privacy.vpn_keys SET retires_at = @retiresAt, sealed_private_key = NULL WHERE peer_id = @peerId AND retires_at IS NULL",
                new { peerId, retiresAt }, transaction, cancellationToken: cancellationToken));
            await InsertKeyAsync(connection, transaction, peerId, generation, key, pool, now, cancellationToken);
            return generation;
        }, cancellationToken);

    /// <summary>Revokes the peer: its keys and preshared keys go at once, and its addresses return to the pool.</summary>
    public Task<bool> RevokeAsync(Guid peerId, DateTimeOffset now, CancellationToken cancellationToken) =>
        InLockAsync(async (connection, transaction) =>
        {
            var revoked = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE privacy.vpn_peers SET revoked_at = @now WHERE peer_id = @peerId AND revoked_at IS NULL", new { peerId, now }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM privacy.vpn_keys WHERE peer_id = @peerId", new { peerId }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM privacy.vpn_preshared_keys WHERE peer_low = @peerId OR peer_high = @peerId", new { peerId }, transaction, cancellationToken: cancellationToken));
            return revoked == 1;
        }, cancellationToken);

    /// <summary>The sealed private key of a generation, removed as it is read: shown once.</summary>
    public async Task<byte[]?> TakePrivateKeyAsync(Guid peerId, int generation, CancellationToken cancellationToken) =>
        await db.QuerySingleOrDefaultAsync<byte[]>("""
            WITH taken AS (SELECT sealed_private_key FROM privacy.vpn_keys WHERE peer_id = @peerId AND generation = @generation FOR UPDATE)
            UPDATE privacy.vpn_keys k SET sealed_private_key = NULL FROM taken
            WHERE k.peer_id = @peerId AND k.generation = @generation AND taken.sealed_private_key IS NOT NULL
            RETURNING taken.sealed_private_key
            """, new { peerId, generation }, cancellationToken);

    /// <summary>Keys past their overlap leave; their addresses return to the pool.</summary>
    public async Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("DELETE FROM privacy.vpn_keys WHERE retires_at IS NOT NULL AND retires_at <= @now", new { now }, cancellationToken);

    /// <summary>Active peers whose current key is older than their rotation period.</summary>
    public async Task<IReadOnlyList<Guid>> DueForRotationAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.QueryAsync<Guid>("""
            SELECT p.peer_id FROM privacy.vpn_peers p JOIN privacy.vpn_keys k ON k.peer_id = p.peer_id AND k.retires_at IS NULL
            WHERE p.revoked_at IS NULL AND p.rotation_hours > 0 AND k.created_at + make_interval(hours => p.rotation_hours) <= @now
            """, new { now }, cancellationToken);

    async Task InsertKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid peerId, int generation, NewKey key, IPNetwork pool, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM privacy.vpn_keys WHERE public_key = @PublicKey)", key, transaction, cancellationToken: cancellationToken)))
            throw new InvalidFieldException("public_key", "is already a peer's key");
        var used = (await connection.QueryAsync<string>(new CommandDefinition("SELECT host(address) FROM privacy.vpn_keys", transaction: transaction, cancellationToken: cancellationToken)))
            .Select(IPAddress.Parse).ToHashSet();
        var address = AddressPool.FirstFree(pool, used) ?? throw new NoRoomException("VPN_POOL_EXHAUSTED", $"every address of the pool {pool} is in use");
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO privacy.vpn_keys (peer_id, generation, public_key, address, sealed_private_key, created_at)
            VALUES (@peerId, @generation, @publicKey, @address::inet, @sealedKey, @now)
            """, new { peerId, generation, publicKey = key.PublicKey, address = address.ToString(), sealedKey = key.SealPrivateKey(peerId, generation), now },
            transaction, cancellationToken: cancellationToken));
    }

    async Task<T> InLockAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('privacy.vpn'))", transaction: transaction, cancellationToken: cancellationToken));
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}
