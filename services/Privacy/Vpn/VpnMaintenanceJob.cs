using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Privacy.Vpn;

/// <summary>
/// Every minute, on one replica: rotates the keys of peers whose rotation period has passed (keys made here; a peer
/// that brought its own key is rotated by its owner), and removes keys past their overlap, freeing their addresses.
/// </summary>
public sealed class VpnMaintenanceJob(NpgsqlDataSource db, VpnStore store, VpnCoordinator coordinator, TimeProvider clock, ILogger<VpnMaintenanceJob> logger)
    : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x5052_4956_4143_5902;

    protected override TimeSpan Interval => TimeSpan.FromMinutes(1);
    protected override string Description => "VPN key rotation";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var peerId in await store.DueForRotationAsync(Clock.GetUtcNow(), cancellationToken))
        {
            await coordinator.RotateScheduledAsync(peerId, cancellationToken);
            Logger.LogInformation("Rotated VPN peer {PeerId}'s key on schedule", peerId);
        }
        var expired = await store.ExpireAsync(Clock.GetUtcNow(), cancellationToken);
        if (expired > 0) Logger.LogInformation("{Count} rotated-out VPN keys reached the end of their overlap", expired);
    }
}
