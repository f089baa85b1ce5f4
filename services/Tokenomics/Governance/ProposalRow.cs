using Google.Protobuf;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Governance;

/// <summary>A row of <c>tokenomics.proposals</c>; its state is derived, never stored.</summary>
public sealed record ProposalRow
{
    public const string Columns = """
        proposal_id, proposer, title, description, actions::text AS actions, created_at, vote_start, vote_end, timelock_seconds, grace_seconds, total_power, quorum,
        for_votes, against_votes, abstain_votes, canceled_at, queued_at, eta, executed_at, execution_error
        """;

    public long ProposalId { get; init; }
    public string Proposer { get; init; } = "";
    public string Title { get; init; } = "";
    public string Description { get; init; } = "";
    /// <summary>The actions as proto3 JSON of <see cref="ProposalActions"/>.</summary>
    public string Actions { get; init; } = "{}";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset VoteStart { get; init; }
    public DateTimeOffset VoteEnd { get; init; }
    public decimal TimelockSeconds { get; init; }
    public decimal GraceSeconds { get; init; }
    public long TotalPower { get; init; }
    public long Quorum { get; init; }
    public long ForVotes { get; init; }
    public long AgainstVotes { get; init; }
    public long AbstainVotes { get; init; }
    public DateTimeOffset? CanceledAt { get; init; }
    public DateTimeOffset? QueuedAt { get; init; }
    public DateTimeOffset? Eta { get; init; }
    public DateTimeOffset? ExecutedAt { get; init; }
    public string ExecutionError { get; init; } = "";

    public DateTimeOffset? ExpiresAt => Eta + TimeSpan.FromSeconds((double)GraceSeconds);

    /// <summary>OpenZeppelin Governor's order: Executed, Canceled, Pending, Active, then Defeated or Succeeded, Queued — and Expired past the grace period.</summary>
    public string State(DateTimeOffset now) =>
        ExecutedAt is not null ? ProposalStates.Executed
        : CanceledAt is not null ? ProposalStates.Canceled
        : now <= VoteStart ? ProposalStates.Pending
        : now <= VoteEnd ? ProposalStates.Active
        : ForVotes + AbstainVotes < Quorum || ForVotes <= AgainstVotes ? ProposalStates.Defeated
        : QueuedAt is null ? ProposalStates.Succeeded
        : now >= ExpiresAt ? ProposalStates.Expired
        : ProposalStates.Queued;

    public IReadOnlyList<ProposalAction> ParsedActions => ProposalActions.Parser.WithDiscardUnknownFields(true).ParseJson(Actions).Actions;

    public Proposal ToMessage(DateTimeOffset now)
    {
        var message = new Proposal
        {
            ProposalId = ProposalId, Proposer = Proposer, Title = Title, Description = Description, State = State(now), CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(),
            VoteStartMs = VoteStart.ToUnixTimeMilliseconds(), VoteEndMs = VoteEnd.ToUnixTimeMilliseconds(), TotalPower = TotalPower, Quorum = Quorum,
            ForVotes = ForVotes, AgainstVotes = AgainstVotes, AbstainVotes = AbstainVotes, CanceledAtMs = CanceledAt?.ToUnixTimeMilliseconds() ?? 0,
            QueuedAtMs = QueuedAt?.ToUnixTimeMilliseconds() ?? 0, EtaMs = Eta?.ToUnixTimeMilliseconds() ?? 0, ExpiresAtMs = ExpiresAt?.ToUnixTimeMilliseconds() ?? 0,
            ExecutedAtMs = ExecutedAt?.ToUnixTimeMilliseconds() ?? 0, ExecutionError = ExecutionError,
        };
        message.Actions.AddRange(ParsedActions);
        return message;
    }

    public static string Serialize(IEnumerable<ProposalAction> actions) => JsonFormatter.Default.Format(new ProposalActions { Actions = { actions } });
}

public static class ProposalStates
{
    public const string Pending = "Pending";
    public const string Active = "Active";
    public const string Canceled = "Canceled";
    public const string Defeated = "Defeated";
    public const string Succeeded = "Succeeded";
    public const string Queued = "Queued";
    public const string Expired = "Expired";
    public const string Executed = "Executed";
}
