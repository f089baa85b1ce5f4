using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Governance;

/// <summary>Governance's API: proposals, votes, vote delegation and the parameters they change. People propose and vote; anyone queues and executes.</summary>
public sealed class GovernanceService(ProposalStore proposals, VotingPowers powers, ProposalExecution execution, ParameterStore parameters, EventPublisher events,
    TimeProvider clock, ILogger<GovernanceService> logger) : V1.Governance.GovernanceBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListProposalsResponse> ListProposals(ListProposalsRequest request, ServerCallContext context)
    {
        var limit = request.Limit == 0 ? 50 : request.Limit;
        new RequestValidation().Require(limit is > 0 and <= 500, "limit", "must be between 1 and 500").ThrowIfInvalid();
        var now = clock.GetUtcNow();
        var response = new ListProposalsResponse();
        response.Proposals.AddRange((await proposals.ListAsync(limit, context.CancellationToken)).Select(p => p.ToMessage(now)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Proposal> CreateProposal(CreateProposalRequest request, ServerCallContext context)
    {
        var proposer = Person(context, "propose");
        ProposalRules.Validate(request);
        var now = clock.GetUtcNow();
        var created = await proposals.CreateAsync(proposer, request.Title.Trim(), request.Description, ProposalRow.Serialize(request.Actions), now, context.CancellationToken);
        return await PublishAsync("proposal.created", created, now);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Proposal> GetProposal(GetProposalRequest request, ServerCallContext context) =>
        (await proposals.GetAsync(request.ProposalId, context.CancellationToken))?.ToMessage(clock.GetUtcNow())
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"proposal {request.ProposalId} does not exist"));

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Vote> CastVote(CastVoteRequest request, ServerCallContext context)
    {
        var voter = Person(context, "vote");
        var support = request.Support.ToLowerInvariant();
        new RequestValidation()
            .Require(request.ProposalId > 0, "proposal_id", "is required")
            .Require(support is "for" or "against" or "abstain", "support", "must be for, against or abstain")
            .Require(request.Reason.Length <= 1000, "reason", "at most 1,000 characters")
            .ThrowIfInvalid();
        var now = clock.GetUtcNow();
        var (proposal, weight) = await proposals.VoteAsync(request.ProposalId, voter, support, request.Reason, now, context.CancellationToken);
        var vote = new Vote { ProposalId = proposal.ProposalId, Voter = voter, Support = support, Weight = weight, Reason = request.Reason, CastAtMs = now.ToUnixTimeMilliseconds() };
        logger.LogInformation("{Voter} voted {Support} on proposal {ProposalId} with {Weight}", voter, support, proposal.ProposalId, weight);
        await events.PublishAsync("governance", "vote.cast", vote);
        return vote;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Proposal> CancelProposal(GetProposalRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        return await PublishAsync("proposal.canceled", await proposals.CancelAsync(request.ProposalId, context.Caller(), now, context.CancellationToken), now);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Proposal> QueueProposal(GetProposalRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        return await PublishAsync("proposal.queued", await proposals.QueueAsync(request.ProposalId, now, context.CancellationToken), now);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Proposal> ExecuteProposal(GetProposalRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var (executed, replayed) = await proposals.ExecuteAsync(request.ProposalId, now, p => execution.CarryOutAsync(p, context.CancellationToken), context.CancellationToken);
        return replayed ? executed.ToMessage(now) : await PublishAsync("proposal.executed", executed, now);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<VotingPower> DelegateVotes(DelegateVotesRequest request, ServerCallContext context)
    {
        var delegator = Person(context, "delegate votes");
        new RequestValidation().Require(request.Delegatee == "" || TransferRequests.IsAccount(SystemAccounts.User(request.Delegatee)), "delegatee",
            "must be a username, or empty to vote with one's own stake again").ThrowIfInvalid();
        await powers.DelegateAsync(delegator, request.Delegatee, clock.GetUtcNow(), context.CancellationToken);
        var power = (await powers.NowAsync(delegator, context.CancellationToken)).ToMessage();
        await events.PublishAsync("governance", "votes.delegated", power);
        return power;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<VotingPower> GetVotingPower(GetVotingPowerRequest request, ServerCallContext context)
    {
        var voter = request.Voter == "" ? Callers.Name(context.GetHttpContext().User) : request.Voter;
        new RequestValidation().Require(TransferRequests.IsAccount(SystemAccounts.User(voter)), "voter", "must be a username").ThrowIfInvalid();
        var power = (await powers.NowAsync(voter, context.CancellationToken)).ToMessage();
        var user = context.GetHttpContext().User;
        // Anyone's power is public (votes are); what they hold and who they follow is theirs and the admins'.
        if (voter != Callers.Name(user) && !user.IsInRole("admin") && !LedgerAccess.IsService(user))
            return new VotingPower { Voter = voter, Power = power.Power };
        return power;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListParametersResponse> ListParameters(ListParametersRequest request, ServerCallContext context)
    {
        var stored = (await parameters.ListAsync(context.CancellationToken)).ToDictionary(p => p.Name);
        var response = new ListParametersResponse();
        foreach (var definition in PlatformParameters.All)
        {
            var current = stored.GetValueOrDefault(definition.Name);
            response.Parameters.Add(new Parameter
            {
                Name = definition.Name, Value = (current.Name is null ? definition.Default : current.Value).ToString(CultureInfo.InvariantCulture),
                Min = definition.Min.ToString(CultureInfo.InvariantCulture), Max = definition.Max.ToString(CultureInfo.InvariantCulture), Meaning = definition.Meaning,
                ChangedAtMs = current.Name is null ? 0 : current.ChangedAt.ToUnixTimeMilliseconds(), ChangedBy = current.ChangedBy ?? "genesis",
            });
        }
        return response;
    }

    /// <summary>Proposals and votes are people's: a service has no stake.</summary>
    static string Person(ServerCallContext context, string action)
    {
        var user = context.GetHttpContext().User;
        if (LedgerAccess.IsService(user)) throw new RpcException(new Status(StatusCode.PermissionDenied, $"services do not {action}: only people, with their stake"));
        return Callers.Name(user);
    }

    async Task<Proposal> PublishAsync(string type, ProposalRow proposal, DateTimeOffset now)
    {
        var message = proposal.ToMessage(now);
        logger.LogInformation("{Event}: proposal {ProposalId} ({Title}) by {Proposer} is {State}", type, proposal.ProposalId, proposal.Title, proposal.Proposer, message.State);
        await events.PublishAsync("governance", type, message);
        return message;
    }
}
