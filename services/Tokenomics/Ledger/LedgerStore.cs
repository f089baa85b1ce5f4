using Npgsql;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>The <c>tokenomics.accounts</c> table and the totals computed from it.</summary>
public sealed class LedgerStore(NpgsqlDataSource db)
{
    public async Task<TokenStats> StatsAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT coalesce(sum(balance + staked), 0)::bigint, coalesce(sum(staked), 0)::bigint, count(*)::int FROM tokenomics.accounts");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new TokenStats { TotalSupply = reader.GetInt64(0), TotalStaked = reader.GetInt64(1), Accounts = reader.GetInt32(2) };
    }
}
