using Google.Protobuf;
using Platform.ServiceDefaults.Cache;

namespace Platform.Tokenomics.Ledger;

/// <summary>What staking and rewards did, logged and published on the <c>ledger</c> topic after the commit.</summary>
public sealed class LedgerEvents(EventPublisher events, ILogger<LedgerEvents> logger)
{
    public async Task PublishAsync(string type, string what, IMessage data)
    {
        logger.LogInformation("{Event}: {What}", type, what);
        await events.PublishAsync("ledger", type, data);
    }
}
