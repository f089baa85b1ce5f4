using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>The stats and the invariants, from the ledger's totals.</summary>
public static class LedgerStats
{
    public static TokenStats From(LedgerTotals totals)
    {
        var supply = totals.Minted - totals.Burned;
        return new TokenStats
        {
            TotalSupply = supply, Minted = totals.Minted, Burned = totals.Burned, Treasury = totals.Treasury, TotalStaked = totals.Staked,
            Accounts = totals.Accounts, Holders = totals.Holders, Pending = (long)totals.PendingDebits,
            Invariants = new LedgerInvariants
            {
                BalancesEqualSupply = totals.Balances == supply,
                DebitsEqualCredits = totals.TotalDebits == totals.TotalCredits && totals.PendingDebits == totals.PendingCredits,
                NegativeAccounts = totals.NegativeAccounts, TotalDebits = (long)totals.TotalDebits, TotalCredits = (long)totals.TotalCredits, Balances = (long)totals.Balances,
            },
        };
    }
}

/// <summary>The opaque token of a transfer list's next page.</summary>
static class TransferPage
{
    public static string Of(TransferRow last) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{last.CreatedAt.UtcTicks}:{last.TransferId}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static (DateTimeOffset At, Guid Id)? Parse(string token)
    {
        if (token == "") return null;
        try
        {
            var padded = token.Replace('-', '+').Replace('_', '/');
            var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='))).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks is >= 0 and <= 3155378975999999999 && Guid.TryParse(parts[1], out var id)
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), id) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
