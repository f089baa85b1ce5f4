using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>A row of <c>tokenomics.accounts</c>.</summary>
public sealed record AccountRow
{
    public string AccountId { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Owner { get; init; } = "";
    public long DebitsPosted { get; init; }
    public long CreditsPosted { get; init; }
    public long DebitsPending { get; init; }
    public long CreditsPending { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>What may still be debited: the balance less what pending transfers reserve.</summary>
    public long Available => CreditsPosted - DebitsPosted - DebitsPending;

    public Account ToMessage() => new()
    {
        AccountId = AccountId, Kind = Kind, Owner = Owner, Balance = CreditsPosted - DebitsPosted, Available = Available, DebitsPosted = DebitsPosted,
        CreditsPosted = CreditsPosted, DebitsPending = DebitsPending, CreditsPending = CreditsPending, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(),
    };
}

/// <summary>A row of <c>tokenomics.transfers</c>.</summary>
public sealed record TransferRow
{
    public Guid TransferId { get; init; }
    public string RequestedBy { get; init; } = "";
    public string IdempotencyKey { get; init; } = "";
    public string Payload { get; init; } = "";
    public string DebitAccountId { get; init; } = "";
    public string CreditAccountId { get; init; } = "";
    public long Amount { get; init; }
    public string Kind { get; init; } = TransferKinds.Transfer;
    public string State { get; init; } = TransferStates.Posted;
    public string Memo { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? TimeoutAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>A pending transfer posted for less than it held: what it held.</summary>
    public long? Reserved { get; init; }

    public Transfer ToMessage(bool replayed = false) => new()
    {
        TransferId = TransferId.ToString(), IdempotencyKey = IdempotencyKey, RequestedBy = RequestedBy, DebitAccountId = DebitAccountId,
        CreditAccountId = CreditAccountId, Amount = Amount, Kind = Kind, State = State, Memo = Memo, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(),
        TimeoutAtMs = TimeoutAt?.ToUnixTimeMilliseconds() ?? 0, ResolvedAtMs = ResolvedAt?.ToUnixTimeMilliseconds() ?? 0, Replayed = replayed, Reserved = Reserved ?? 0,
    };
}

public static class TransferKinds
{
    public const string Transfer = "transfer";
    public const string Mint = "mint";
    public const string Burn = "burn";
    public const string Stake = "stake";
    public const string Unbond = "unbond";
    public const string Rebond = "rebond";
    public const string Withdraw = "withdraw";
    public const string Reward = "reward";
    public const string Commission = "commission";
    public const string Claim = "claim";
    public const string Slash = "slash";
}

public static class TransferStates
{
    public const string Posted = "posted";
    public const string Pending = "pending";
    public const string Voided = "voided";
}

/// <summary>The platform's own accounts; people's are <c>user:&lt;name&gt;</c>, nodes' operators' <c>operator:&lt;node&gt;</c>.</summary>
public static class SystemAccounts
{
    /// <summary>Debited by every mint, credited by every burn: minus its balance is the supply.</summary>
    public const string Issuance = "issuance";
    public const string Treasury = "treasury";
    public const string StakingPool = "staking-pool";
    public const string Escrow = "escrow";
    /// <summary>Holds what unbonding entries owe their delegators.</summary>
    public const string UnbondingPool = "unbonding-pool";
    /// <summary>Holds the rewards delegators have earned and not yet claimed.</summary>
    public const string RewardsPool = "rewards-pool";
    public static readonly string[] All = [Issuance, Treasury, StakingPool, UnbondingPool, RewardsPool, Escrow];

    public static string User(string name) => $"user:{name}";
    public static string Operator(string node) => $"operator:{node}";
}
