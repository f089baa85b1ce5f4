using Npgsql;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;

namespace Platform.Tokenomics.Ledger;

/// <summary>Voids pending transfers whose timeout has passed (TigerBeetle's timeout), every second on one replica.</summary>
public sealed class PendingTimeouts(NpgsqlDataSource db, LedgerStore store, EventPublisher events, TimeProvider clock, ILogger<PendingTimeouts> logger)
    : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x6C6564676572; // "ledger"

    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);
    protected override string Description => "Voiding timed-out pending transfers";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.ExpiredAsync(Clock.GetUtcNow(), 500, cancellationToken))
        {
            (TransferRow Transfer, bool Replayed)? result;
            try
            {
                result = await store.ResolveAsync(id, post: false, _ => { }, Clock.GetUtcNow(), cancellationToken);
            }
            catch (TransferStateException)
            {
                continue; // posted at the last moment: it stands
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One transfer that cannot be voided now holds none of the others back: it is tried again next second.
                Logger.LogWarning(ex, "Pending transfer {TransferId} not voided this round", id);
                continue;
            }
            if (result is not ({ } voided, false)) continue;
            Logger.LogInformation("Pending transfer {TransferId} of {Amount} from {Debit} voided: its timeout passed", id, voided.Amount, voided.DebitAccountId);
            await events.PublishAsync("ledger", "transfer.voided", voided.ToMessage());
        }
    }
}
