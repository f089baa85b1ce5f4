using Platform.Onion.Directory;
using Platform.Privacy.Relays;

namespace Platform.Privacy.Entry;

/// <summary>
/// The entry's view of the network: the newest consensus, checked like any client checks it — the authority's
/// signature and its validity window — and kept until it is no longer fresh.
/// </summary>
public sealed class ConsensusSource(ConsensusStore store, DirectoryAuthority authority, TimeProvider clock)
{
    readonly SemaphoreSlim gate = new(1, 1);
    ConsensusDocument? current;

    public async Task<ConsensusDocument> CurrentAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (current is { } cached && now < cached.FreshUntil) return cached;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (current is { } again && now < again.FreshUntil) return again;
            var row = await store.LatestAsync(cancellationToken)
                ?? throw new ConsensusRejectedException("the directory has not signed a consensus yet");
            current = ConsensusDocument.Verify(new SignedDocument(row.Body, row.Signature), authority.PublicKey, now);
            return current;
        }
        finally
        {
            gate.Release();
        }
    }
}
