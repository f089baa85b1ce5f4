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
            Accounts = totals.Accounts, Holders = totals.Holders, Pending = Saturated(totals.PendingDebits), Unbonding = totals.Unbonding, Stakers = totals.Stakers,
            Invariants = new LedgerInvariants
            {
                BalancesEqualSupply = totals.Balances == supply,
                DebitsEqualCredits = totals.TotalDebits == totals.TotalCredits && totals.PendingDebits == totals.PendingCredits,
                NegativeAccounts = totals.NegativeAccounts, TotalDebits = Saturated(totals.TotalDebits), TotalCredits = Saturated(totals.TotalCredits),
                Balances = Saturated(totals.Balances),
                StakingPoolMatchesStake = totals.Staked == totals.Bonded,
                UnbondingPoolMatchesEntries = totals.UnbondingPool == totals.Unbonding,
                RewardsPoolCoversPending = totals.RewardsPool >= totals.RewardsOwed,
            },
        };
    }
}
