using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>The stats and the invariants, from the ledger's totals.</summary>
public static class LedgerStats
{
    /// <summary>Lifetime volumes may pass 2^63 on a busy ledger: shown at most that, compared exactly above.</summary>
    static long Saturated(decimal value) => value >= long.MaxValue ? long.MaxValue : value <= long.MinValue ? long.MinValue : (long)value;

    public static TokenStats From(LedgerTotals totals)
    {
        var supply = totals.Minted - totals.Burned;
        return new TokenStats
        {
            TotalSupply = supply, Minted = totals.Minted, Burned = totals.Burned, Treasury = totals.Treasury, TotalStaked = totals.Staked,
            Accounts = totals.Accounts, Holders = totals.Holders, Pending = Saturated(totals.PendingDebits),
            Invariants = new LedgerInvariants
            {
                BalancesEqualSupply = totals.Balances == supply,
                DebitsEqualCredits = totals.TotalDebits == totals.TotalCredits && totals.PendingDebits == totals.PendingCredits,
                NegativeAccounts = totals.NegativeAccounts, TotalDebits = Saturated(totals.TotalDebits), TotalCredits = Saturated(totals.TotalCredits),
                Balances = Saturated(totals.Balances),
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
