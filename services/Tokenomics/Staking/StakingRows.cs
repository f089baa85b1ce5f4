using System.Globalization;
using System.Numerics;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Staking;

/// <summary>A row of <c>tokenomics.validators</c>; decimals come as text (see <see cref="FixedPoint"/>).</summary>
public sealed record ValidatorRow
{
    public const string Columns = "node, registered_by, commission_rate, tokens, shares::text AS shares, reward_per_share::text AS reward_per_share, jailed_until, slashed, created_at";

    public string Node { get; init; } = "";
    public string RegisteredBy { get; init; } = "";
    public decimal CommissionRate { get; init; }
    public long Tokens { get; init; }
    public string Shares { get; init; } = "0";
    public string RewardPerShare { get; init; } = "0";
    public DateTimeOffset? JailedUntil { get; init; }
    public long Slashed { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public BigInteger SharesValue => FixedPoint.Parse(Shares, FixedPoint.ShareScale);
    public BigInteger RewardPerShareValue => FixedPoint.Parse(RewardPerShare, FixedPoint.RewardScale);
    /// <summary>Jailed from a downtime slash until its operator unjails it (no earlier than <see cref="JailedUntil"/>).</summary>
    public bool IsJailed => JailedUntil is not null;

    /// <summary>What <paramref name="shares"/> of this validator are worth now, rounded down.</summary>
    public long TokensFor(BigInteger shares) => shares.IsZero ? 0 : SharesValue == shares ? Tokens : (long)FixedPoint.MulDiv(shares, Tokens, SharesValue);

    public Validator ToMessage(int delegators, DateTimeOffset now) => new()
    {
        Node = Node, AccountId = $"operator:{Node}", CommissionRate = CommissionRate.ToString(CultureInfo.InvariantCulture), Tokens = Tokens, Shares = Shares,
        Delegators = delegators, Jailed = IsJailed, JailedUntilMs = JailedUntil?.ToUnixTimeMilliseconds() ?? 0, Slashed = Slashed,
        RegisteredBy = RegisteredBy, CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(),
    };
}

/// <summary>A row of <c>tokenomics.delegations</c>.</summary>
public sealed record DelegationRow
{
    public const string Columns = "delegator, node, shares::text AS shares, reward_per_share_start::text AS reward_per_share_start, updated_at";

    public string Delegator { get; init; } = "";
    public string Node { get; init; } = "";
    public string Shares { get; init; } = "0";
    public string RewardPerShareStart { get; init; } = "0";
    public DateTimeOffset UpdatedAt { get; init; }

    public BigInteger SharesValue => FixedPoint.Parse(Shares, FixedPoint.ShareScale);

    /// <summary>F1: the rewards its shares earned since its start, rounded down (the remainder stays in the pool).</summary>
    public long PendingRewards(ValidatorRow validator) =>
        (long)(SharesValue * (validator.RewardPerShareValue - FixedPoint.Parse(RewardPerShareStart, FixedPoint.RewardScale)) / (FixedPoint.OneShare * FixedPoint.OneReward));

    public Delegation ToMessage(ValidatorRow validator, bool replayed = false) => new()
    {
        Delegator = Delegator, Node = Node, Shares = Shares, Tokens = validator.TokensFor(SharesValue), PendingRewards = PendingRewards(validator), Replayed = replayed,
    };
}

/// <summary>A row of <c>tokenomics.unbondings</c>.</summary>
public sealed record UnbondingRow
{
    public const string Columns = "unbonding_id, delegator, node, initial_balance, balance, state, created_at, completes_at, resolved_at";

    public Guid UnbondingId { get; init; }
    public string Delegator { get; init; } = "";
    public string Node { get; init; } = "";
    public long InitialBalance { get; init; }
    public long Balance { get; init; }
    public string State { get; init; } = "unbonding";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset CompletesAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }

    public Unbonding ToMessage(bool replayed = false) => new()
    {
        UnbondingId = UnbondingId.ToString(), Delegator = Delegator, Node = Node, InitialBalance = InitialBalance, Balance = Balance, State = State,
        CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(), CompletesAtMs = CompletesAt.ToUnixTimeMilliseconds(), Replayed = replayed,
    };
}

/// <summary>A row of <c>tokenomics.redelegations</c>.</summary>
public sealed record RedelegationRow
{
    public const string Columns = "redelegation_id, delegator, source_node, destination_node, initial_balance, shares_destination::text AS shares_destination, created_at, completes_at";

    public Guid RedelegationId { get; init; }
    public string Delegator { get; init; } = "";
    public string SourceNode { get; init; } = "";
    public string DestinationNode { get; init; } = "";
    public long InitialBalance { get; init; }
    public string SharesDestination { get; init; } = "0";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset CompletesAt { get; init; }

    public Redelegation ToMessage(bool replayed = false) => new()
    {
        RedelegationId = RedelegationId.ToString(), Delegator = Delegator, SourceNode = SourceNode, DestinationNode = DestinationNode, Amount = InitialBalance,
        SharesDestination = SharesDestination, CompletesAtMs = CompletesAt.ToUnixTimeMilliseconds(), Replayed = replayed,
    };
}
