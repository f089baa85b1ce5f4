using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Onion.Directory;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;

namespace Platform.Privacy.Relays;

/// <summary>
/// Every consensus interval, on one replica: probe each enabled relay that published recently (a real ntor handshake
/// at its advertised address), assign flags from what was measured, and sign a consensus valid for three intervals.
/// </summary>
public sealed class ConsensusJob(
    NpgsqlDataSource db, RelayStore relays, ConsensusStore consensus, DirectoryAuthority authority, EventPublisher events,
    IOptions<PrivacyOptions> options, TimeProvider clock, ILogger<ConsensusJob> logger)
    : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x5052_4956_4143_5901; // "PRIVACY" + 1

    protected override TimeSpan Interval => options.Value.ConsensusInterval;
    protected override string Description => "Signing the consensus";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken) => await PublishAsync(cancellationToken);

    public async Task<ConsensusDocument> PublishAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var all = await relays.ListAsync(cancellationToken);
        var silentAfter = options.Value.PublishInterval * 3;
        var probed = await Task.WhenAll(all.Select(async relay =>
        {
            var fresh = relay.Enabled && relay.PublishedAt is { } published && now - published <= silentAfter
                && relay.IdentityKey is not null && relay.OnionKey is not null && relay.Address is not null && relay.Port is not null;
            double? latency = null;
            try
            {
                if (fresh)
                    latency = await RelayProbe.ProbeAsync(relay.Address!, relay.Port!.Value, Convert.FromBase64String(relay.IdentityKey!), Convert.FromBase64String(relay.OnionKey!), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One relay's odd descriptor costs it its place, never the consensus.
                Logger.LogWarning("Probing relay {Node} failed: {Reason}", relay.Node, ex.Message);
            }
            return (Relay: relay, Latency: latency);
        }));
        // Uptime counts from the relay's own start or from when the authority began seeing it, whichever is later.
        TimeSpan Uptime(RelayStore.RelayRow r) => now - new[] { r.StartedAt ?? now, r.ObservedSince ?? now }.Max();
        var flags = ConsensusFlags.Assign([.. probed.Select(p => new ConsensusFlags.Candidate(p.Relay.Node, p.Latency is not null, p.Relay.Bandwidth,
            Uptime(p.Relay), p.Relay.ExitPolicy))]);

        var document = new ConsensusDocument
        {
            ValidAfter = now, FreshUntil = now + Interval, ValidUntil = now + Interval * 3,
            Relays = [.. probed.Where(p => p.Latency is not null).Select(p => new ConsensusRelay
            {
                NodeId = p.Relay.NodeId?.ToString() ?? "", Nickname = p.Relay.Node, IdentityKey = p.Relay.IdentityKey!, OnionKey = p.Relay.OnionKey!,
                Address = p.Relay.Address!, Port = p.Relay.Port!.Value, BandwidthBytesPerSecond = p.Relay.Bandwidth, Flags = flags[p.Relay.Node],
                ExitPolicy = p.Relay.ExitPolicy,
            })],
        };
        await consensus.AddAsync(document, document.Sign(authority.SigningKey), cancellationToken);
        // The directory's view follows the consensus, never precedes it: a relay shown Running is in a signed consensus.
        foreach (var (relay, latency) in probed)
            await relays.RecordProbeAsync(relay.Node, latency is not null, latency, flags[relay.Node], now, cancellationToken);
        await events.PublishAsync("circuits", "consensus.published", new
        {
            validAfter = document.ValidAfter, validUntil = document.ValidUntil, relays = document.Relays.Count,
        });
        return document;
    }
}
