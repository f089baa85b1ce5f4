using Platform.ServiceDefaults.Data;
using Npgsql;
using Platform.Onion.Directory;
using Platform.Privacy.V1;

namespace Platform.Privacy.Relays;

/// <summary>The <c>privacy.relays</c> table: which nodes have the relay role, and what each relay last published.</summary>
public sealed class RelayStore(NpgsqlDataSource db)
{
    const string Columns = """
        node, node_id AS NodeId, enabled, enabled_at AS EnabledAt, enabled_by AS EnabledBy, exit_policy AS ExitPolicy,
        identity_key AS IdentityKey, onion_key AS OnionKey, address, port, bandwidth, started_at AS StartedAt,
        published_at AS PublishedAt, reachable, probe_latency_ms AS ProbeLatencyMs, flags, observed_since AS ObservedSince
        """;

    public sealed class RelayRow
    {
        public string Node { get; init; } = "";
        public Guid? NodeId { get; init; }
        public bool Enabled { get; init; }
        public DateTimeOffset EnabledAt { get; init; }
        public string EnabledBy { get; init; } = "";
        public string[] ExitPolicy { get; init; } = [];
        public string? IdentityKey { get; init; }
        public string? OnionKey { get; init; }
        public string? Address { get; init; }
        public int? Port { get; init; }
        public long Bandwidth { get; init; }
        public DateTimeOffset? StartedAt { get; init; }
        public DateTimeOffset? PublishedAt { get; init; }
        public bool Reachable { get; init; }
        public double? ProbeLatencyMs { get; init; }
        public string[] Flags { get; init; } = [];
        public DateTimeOffset? ObservedSince { get; init; }

        public Relay ToMessage() => new()
        {
            Node = Node, NodeId = NodeId?.ToString() ?? "", Address = Address ?? "", Port = Port ?? 0, IdentityKey = IdentityKey ?? "",
            OnionKey = OnionKey ?? "", BandwidthBytesPerSecond = Bandwidth, Flags = { Flags }, ExitPolicy = { ExitPolicy }, Enabled = Enabled,
            PublishedAtMs = PublishedAt?.ToUnixTimeMilliseconds() ?? 0, StartedAtMs = StartedAt?.ToUnixTimeMilliseconds() ?? 0,
            EnabledAtMs = EnabledAt.ToUnixTimeMilliseconds(), EnabledBy = EnabledBy, Reachable = Reachable, ProbeLatencyMs = ProbeLatencyMs ?? 0,
        };
    }

    public async Task<IReadOnlyList<RelayRow>> ListAsync(CancellationToken cancellationToken) =>
        await db.QueryAsync<RelayRow>($"SELECT {Columns} FROM privacy.relays ORDER BY node", null, cancellationToken);

    public async Task<RelayRow?> GetAsync(string node, CancellationToken cancellationToken) =>
        await db.QuerySingleOrDefaultAsync<RelayRow>($"SELECT {Columns} FROM privacy.relays WHERE node = @node", new { node }, cancellationToken);

    /// <summary>Turns the role on (again) with this exit policy; the descriptor columns are kept.</summary>
    public async Task<RelayRow> EnableAsync(string node, Guid nodeId, IReadOnlyList<string> exitPolicy, string by, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<RelayRow>($"""
            INSERT INTO privacy.relays (node, node_id, enabled, enabled_at, enabled_by, exit_policy)
            VALUES (@node, @nodeId, true, @now, @by, @exitPolicy)
            ON CONFLICT (node) DO UPDATE SET node_id = excluded.node_id, enabled = true, enabled_at = excluded.enabled_at,
                enabled_by = excluded.enabled_by, exit_policy = excluded.exit_policy
            RETURNING {Columns}
            """, new { node, nodeId, now, by, exitPolicy = exitPolicy.ToArray() }, cancellationToken))!;

    public async Task<RelayRow?> DisableAsync(string node, CancellationToken cancellationToken) =>
        await db.QuerySingleOrDefaultAsync<RelayRow>($"""
            UPDATE privacy.relays SET enabled = false, flags = '{"{}"}' WHERE node = @node RETURNING {Columns}
            """, new { node }, cancellationToken);

    /// <summary>Stores a verified descriptor, unless one published later is already stored (a replay).</summary>
    public async Task<bool> StoreDescriptorAsync(RelayDescriptor descriptor, SignedDocument signed, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("""
            UPDATE privacy.relays SET identity_key = @IdentityKey, onion_key = @OnionKey, address = @Address, port = @Port,
                bandwidth = @BandwidthBytesPerSecond, started_at = @StartedAt, published_at = @PublishedAt, descriptor = @body, signature = @signature
            WHERE node = @Nickname AND enabled AND (published_at IS NULL OR published_at < @PublishedAt)
            """, new
        {
            descriptor.IdentityKey, descriptor.OnionKey, descriptor.Address, descriptor.Port, descriptor.BandwidthBytesPerSecond,
            descriptor.StartedAt, descriptor.PublishedAt, descriptor.Nickname, body = signed.Body, signature = signed.Signature,
        }, cancellationToken) == 1;

    public async Task RecordProbeAsync(string node, bool reachable, double? latencyMs, string[] flags, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("""
            UPDATE privacy.relays SET reachable = @reachable, probe_latency_ms = @latencyMs, flags = @flags,
                observed_since = CASE WHEN @reachable THEN coalesce(observed_since, @now) END
            WHERE node = @node
            """, new { node, reachable, latencyMs, flags, now }, cancellationToken);
}
