using Platform.Onion.Directory;
using Platform.Privacy.Relays;

namespace Platform.Privacy.Entry;

/// <summary>
/// The entry's view of the network: the newest consensus, checked like any client checks it — the authority's
/// signature and its validity window. The entry sits beside the directory, so it looks for a newer one at most once a
/// second rather than waiting for the one it holds to go stale.
/// </summary>
public sealed class ConsensusSource(ConsensusStore store, DirectoryAuthority authority, TimeProvider clock)
{
    static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);
    readonly SemaphoreSlim gate = new(1, 1);
    ConsensusDocument? current;
    DateTimeOffset checkedAt;

    public async Task<ConsensusDocument> CurrentAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (current is { } cached && now < cached.FreshUntil && now - checkedAt < Recheck) return cached;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (current is { } again && now < again.FreshUntil && now - checkedAt < Recheck) return again;
            var row = await store.LatestAsync(cancellationToken)
                ?? throw new ConsensusRejectedException("the directory has not signed a consensus yet");
            if (current is null || row.ValidAfter > current.ValidAfter || now >= current.FreshUntil)
                current = ConsensusDocument.Verify(new SignedDocument(row.Body, row.Signature), authority.PublicKey, now);
            checkedAt = now;
            return current;
        }
        finally
        {
            gate.Release();
        }
    }
}
