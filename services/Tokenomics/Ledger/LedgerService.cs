using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>Ledger totals for clients.</summary>
public sealed class LedgerService(LedgerStore store) : V1.Tokenomics.TokenomicsBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<TokenStats> GetStats(GetStatsRequest request, ServerCallContext context) => store.StatsAsync(context.CancellationToken);
}
