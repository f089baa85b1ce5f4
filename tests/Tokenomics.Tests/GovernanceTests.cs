using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Platform.TestSupport;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Tests;

/// <summary>
/// Governance on a clock the test moves: a proposal through every state, voting power from the snapshot (delegated
/// votes counted for the delegatee, stake added later not at all), quorum, timelock, grace, and an executed proposal
/// changing a parameter of Tokenomics itself.
/// </summary>
public sealed class GovernanceTests : IAsyncLifetime
{
    readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    ServiceHost<Program> host = null!;

    internal static readonly Dictionary<string, string> Genesis = new()
    {
        ["Tokenomics:Genesis:voting_delay_seconds"] = "60",
        ["Tokenomics:Genesis:voting_period_seconds"] = "120",
        ["Tokenomics:Genesis:timelock_seconds"] = "60",
        ["Tokenomics:Genesis:grace_period_seconds"] = "60",
        ["Tokenomics:Genesis:quorum_fraction"] = "0.5",
        ["Tokenomics:Genesis:proposal_threshold"] = "100",
    };

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync(Genesis, services => services.AddSingleton<TimeProvider>(clock));

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Governance.GovernanceClient As(string user) => new(host.Channel(TestInfrastructure.Token(user, "viewer")));
    V1.Staking.StakingClient StakingAs(string user, string role = "viewer") => new(host.Channel(TestInfrastructure.Token(user, role)));

    /// <summary>Gives each person tokens and stakes them to one validator.</summary>
    internal static async Task StakeAsync(ServiceHost<Program> host, params (string User, long Amount)[] stakes)
    {
        var ledger = new V1.Tokenomics.TokenomicsClient(host.Channel(TestInfrastructure.Token("ada", "admin")));
        var staking = new V1.Staking.StakingClient(host.Channel(TestInfrastructure.Token("opal", "operator")));
        if ((await staking.ListValidatorsAsync(new ListValidatorsRequest())).Validators.All(v => v.Node != "node-g"))
            await staking.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-g", CommissionRate = "0" });
        foreach (var (user, amount) in stakes)
        {
            await ledger.MintAsync(new MintRequest { IdempotencyKey = $"mint-{Guid.NewGuid()}", Amount = amount });
            await ledger.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = $"g-{Guid.NewGuid()}", DebitAccountId = "treasury", CreditAccountId = $"user:{user}", Amount = amount });
            await new V1.Staking.StakingClient(host.Channel(TestInfrastructure.Token(user, "viewer"))).StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-g", Amount = amount });
        }
    }

    static CreateProposalRequest SetParameter(string title, string name, string value) => new()
    {
        Title = title, Description = "why", Actions = { new ProposalAction { Parameter = new ParameterChange { Name = name, Value = value } } },
    };

    async Task<StatusCode> RefusedAsync<T>(Func<AsyncUnaryCall<T>> call) => (await Assert.ThrowsAsync<RpcException>(() => call().ResponseAsync)).StatusCode;

    [Fact]
    public async Task A_proposal_goes_through_every_state_and_once_executed_changes_the_parameter()
    {
        await StakeAsync(host, ("alice", 600), ("bob", 300), ("carol", 100));
        var delegated = await As("carol").DelegateVotesAsync(new DelegateVotesRequest { Delegatee = "alice" });
        Assert.Equal((100L, "alice", 0L), (delegated.OwnStake, delegated.Delegatee, delegated.Power));
        Assert.Equal(700, (await As("alice").GetVotingPowerAsync(new GetVotingPowerRequest())).Power);

        var proposal = await As("alice").CreateProposalAsync(SetParameter("Shorter unbonding", "unbonding_period_seconds", "60"));
        Assert.Equal(("Pending", 1_000L, 500L, "alice"), (proposal.State, proposal.TotalPower, proposal.Quorum, proposal.Proposer));
        var vote = new CastVoteRequest { ProposalId = proposal.ProposalId, Support = "for", Reason = "faster exits" };
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("alice").CastVoteAsync(vote)));
        await StakeAsync(host, ("erin", 5_000));   // after the snapshot: no say in this proposal

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("Active", (await As("bob").GetProposalAsync(new GetProposalRequest { ProposalId = proposal.ProposalId })).State);
        Assert.Equal(700, (await As("alice").CastVoteAsync(vote)).Weight);
        Assert.Equal(StatusCode.AlreadyExists, await RefusedAsync(() => As("alice").CastVoteAsync(vote)));
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("carol").CastVoteAsync(vote)));   // her power went to alice
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("erin").CastVoteAsync(vote)));    // staked after the snapshot
        Assert.Equal(300, (await As("bob").CastVoteAsync(new CastVoteRequest { ProposalId = proposal.ProposalId, Support = "against" })).Weight);

        clock.Advance(TimeSpan.FromSeconds(120));
        var id = new GetProposalRequest { ProposalId = proposal.ProposalId };
        var succeeded = await As("bob").GetProposalAsync(id);
        Assert.Equal(("Succeeded", 700L, 300L, 0L), (succeeded.State, succeeded.ForVotes, succeeded.AgainstVotes, succeeded.AbstainVotes));
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("bob").ExecuteProposalAsync(id)));
        var queued = await As("bob").QueueProposalAsync(id);
        Assert.Equal("Queued", queued.State);
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("bob").ExecuteProposalAsync(id)));   // the timelock

        clock.Advance(TimeSpan.FromSeconds(61));
        var executed = await As("bob").ExecuteProposalAsync(id);
        Assert.Equal("Executed", executed.State);
        Assert.Equal("Executed", (await As("bob").ExecuteProposalAsync(id)).State);
        var parameter = (await As("bob").ListParametersAsync(new ListParametersRequest())).Parameters.Single(p => p.Name == "unbonding_period_seconds");
        Assert.Equal(("60", $"proposal {proposal.ProposalId}"), (parameter.Value, parameter.ChangedBy));
        var unbonding = await StakingAs("bob").UnstakeAsync(new UnstakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-g", Amount = 10 });
        Assert.Equal(60_000, unbonding.CompletesAtMs - unbonding.CreatedAtMs);
    }

    [Fact]
    public async Task A_proposal_short_of_quorum_is_defeated_a_pending_one_is_canceled_by_its_proposer_only_and_a_queued_one_expires()
    {
        await StakeAsync(host, ("alice", 600), ("bob", 300), ("dave", 50));
        var defeated = await As("bob").CreateProposalAsync(SetParameter("Higher CPU reward", "reward_per_cpu_second", "2000"));
        var canceled = await As("alice").CreateProposalAsync(SetParameter("Lower quorum", "quorum_fraction", "0.1"));
        var expiring = await As("alice").CreateProposalAsync(SetParameter("Longer jail", "jail_seconds", "1200"));
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("dave").CreateProposalAsync(SetParameter("x", "jail_seconds", "120"))));   // 50 < threshold 100

        Assert.Equal(StatusCode.PermissionDenied, await RefusedAsync(() => As("bob").CancelProposalAsync(new GetProposalRequest { ProposalId = canceled.ProposalId })));
        Assert.Equal("Canceled", (await As("alice").CancelProposalAsync(new GetProposalRequest { ProposalId = canceled.ProposalId })).State);

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("alice").CancelProposalAsync(new GetProposalRequest { ProposalId = expiring.ProposalId })));  // Active now
        await As("bob").CastVoteAsync(new CastVoteRequest { ProposalId = defeated.ProposalId, Support = "for" });               // 300 of a 475 quorum
        await As("alice").CastVoteAsync(new CastVoteRequest { ProposalId = expiring.ProposalId, Support = "abstain" });         // abstain counts to quorum
        await As("bob").CastVoteAsync(new CastVoteRequest { ProposalId = expiring.ProposalId, Support = "for" });
        clock.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal("Defeated", (await As("bob").GetProposalAsync(new GetProposalRequest { ProposalId = defeated.ProposalId })).State);
        Assert.Equal("Queued", (await As("bob").QueueProposalAsync(new GetProposalRequest { ProposalId = expiring.ProposalId })).State);
        clock.Advance(TimeSpan.FromSeconds(121));   // past the timelock and the grace period, never executed
        Assert.Equal("Expired", (await As("bob").GetProposalAsync(new GetProposalRequest { ProposalId = expiring.ProposalId })).State);
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => As("bob").ExecuteProposalAsync(new GetProposalRequest { ProposalId = expiring.ProposalId })));
        var states = (await As("bob").ListProposalsAsync(new ListProposalsRequest())).Proposals.ToDictionary(p => p.ProposalId, p => p.State);
        Assert.Equal(["Defeated", "Canceled", "Expired"], new[] { states[defeated.ProposalId], states[canceled.ProposalId], states[expiring.ProposalId] });
        var jail = (await As("bob").ListParametersAsync(new ListParametersRequest())).Parameters.Single(p => p.Name == "jail_seconds");
        Assert.Equal(("600", "genesis"), (jail.Value, jail.ChangedBy));
    }

    [Fact]
    public async Task A_proposal_that_could_not_be_carried_out_is_refused_naming_the_field()
    {
        await StakeAsync(host, ("alice", 600));
        using var http = host.Http(TestInfrastructure.Token("alice", "viewer"));
        foreach (var (body, field) in new (object, string)[]
                 {
                     (new { title = "", actions = new[] { new { parameter = new { name = "jail_seconds", value = "5" } } } }, "title"),
                     (new { title = "t", actions = Array.Empty<object>() }, "actions"),
                     (new { title = "t", actions = new[] { new { parameter = new { name = "make_me_rich", value = "5" } } } }, "actions[0].parameter.name"),
                     (new { title = "t", actions = new[] { new { parameter = new { name = "quorum_fraction", value = "1.5" } } } }, "actions[0].parameter.value"),
                     (new { title = "t", actions = new[] { new { objectiveWeights = new { makespan = 0, cost = 0 } } } }, "actions[0].objective_weights"),
                 })
        {
            using var response = await http.PostAsJsonAsync("/api/tokenomics/proposals", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, await response.Content.ReadAsStringAsync());
        }
        using var badVote = await http.PostAsJsonAsync("/api/tokenomics/vote", new { proposalId = "1", support = "maybe" });
        Assert.Equal(HttpStatusCode.BadRequest, badVote.StatusCode);
        Assert.Contains("support", await badVote.Content.ReadAsStringAsync());
        Assert.Empty((await As("alice").ListProposalsAsync(new ListProposalsRequest())).Proposals);
        Assert.Equal(StatusCode.PermissionDenied, await RefusedAsync(() =>
            new V1.Governance.GovernanceClient(host.Channel(TestInfrastructure.Token("scheduler", "service"))).CreateProposalAsync(SetParameter("t", "jail_seconds", "5"))));
    }
}
