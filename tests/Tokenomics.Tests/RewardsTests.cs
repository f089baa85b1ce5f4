using System.Numerics;
using Microsoft.Extensions.DependencyInjection;
using Platform.TestSupport;
using Platform.Tokenomics.Rewards;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Tests;

/// <summary>
/// F1 against the naive computation: on random histories of stakes, unstakes, slashes and epochs, what each delegator
/// received and may claim equals, to the unit each settlement rounds down, what paying every delegator its share of
/// every epoch one by one gives — and never more.
/// </summary>
public sealed class RewardsTests : IAsyncLifetime
{
    static readonly string[] Nodes = ["node-f0", "node-f1", "node-f2"];
    static readonly decimal[] Commissions = [0m, 0.1m, 0.25m];
    static readonly string[] Delegators = ["d0", "d1", "d2", "d3", "d4"];
    const long Funding = 1_000_000;
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
    {
        ["Tokenomics:Genesis:sla_slash_fraction"] = "0.03",
        ["Tokenomics:Genesis:reward_per_cpu_second"] = "1000",
        ["Tokenomics:Genesis:reward_per_memory_gib_hour"] = "100",
        ["Tokenomics:Genesis:reward_per_relay_gib"] = "10000",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Staking.StakingClient As(string user, string role = "viewer") => new(host.Channel(TestInfrastructure.Token(user, role)));
    V1.Distribution.DistributionClient Distribution(string user) => new(host.Channel(TestInfrastructure.Token(user, "viewer")));
    V1.Tokenomics.TokenomicsClient Ledger => new(host.Channel(TestInfrastructure.Token("ada", "admin")));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Rewards_by_F1_equal_the_naive_per_epoch_split_on_a_random_history(int seed)
    {
        var random = new Random(seed);
        for (var v = 0; v < Nodes.Length; v++)
            await As("opal", "operator").RegisterValidatorAsync(new RegisterValidatorRequest { Node = Nodes[v], CommissionRate = Commissions[v].ToString(System.Globalization.CultureInfo.InvariantCulture) });
        foreach (var d in Delegators)
        {
            await Ledger.MintAsync(new MintRequest { IdempotencyKey = $"mint-{d}", Amount = Funding });
            await Ledger.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = $"grant-{d}", DebitAccountId = "treasury", CreditAccountId = $"user:{d}", Amount = Funding });
        }
        var distribution = host.Services.GetRequiredService<RewardDistribution>();
        var naive = Delegators.ToDictionary(d => d, _ => BigInteger.Zero);            // in 10^-18 units
        var operators = Nodes.ToDictionary(n => n, _ => 0L);
        var staked = Delegators.ToDictionary(d => d, _ => 0L);
        var settlements = Delegators.ToDictionary(d => d, _ => 0);
        var epoch = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);

        for (var step = 0; step < 80; step++)
        {
            var d = Delegators[random.Next(Delegators.Length)];
            var node = Nodes[random.Next(Nodes.Length)];
            switch (random.Next(10))
            {
                case < 3:
                    var amount = random.Next(1, 50_000);
                    await As(d).StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = node, Amount = amount });
                    staked[d] += amount;
                    settlements[d]++;
                    break;
                case 3:
                    var holding = (await As(d).ListDelegationsAsync(new ListDelegationsRequest())).Delegations.FirstOrDefault(x => x.Node == node);
                    if (holding is null || holding.Tokens < 2) break;
                    await As(d).UnstakeAsync(new UnstakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = node, Amount = random.NextInt64(1, holding.Tokens + 1) });
                    settlements[d]++;
                    break;
                case 4:
                    if ((await As(d).ListValidatorsAsync(new ListValidatorsRequest())).Validators.Single(v => v.Node == node).Tokens == 0) break;
                    await As("ada", "admin").SlashValidatorAsync(new SlashRequest { Node = node, Reason = "sla", Evidence = $"step {step}", InfractionAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
                    break;
                default:
                    var work = Nodes.Where(_ => random.Next(4) > 0)
                        .Select(n => new NodeWork(n, Math.Round(random.NextDouble() * 500, 3), Math.Round(random.NextDouble() * 8, 3), Math.Round(random.NextDouble() * 4, 3))).ToList();
                    await SplitNaivelyAsync(work, naive, operators);
                    Assert.True(await distribution.CloseEpochAsync(epoch, epoch.AddHours(1), work, DateTimeOffset.UtcNow, default));
                    Assert.False(await distribution.CloseEpochAsync(epoch, epoch.AddHours(1), work, DateTimeOffset.UtcNow, default));
                    epoch = epoch.AddHours(1);
                    break;
            }
        }

        Assert.True(naive.Values.Count(v => v > 0) >= 3, "the history paid rewards to several delegators");
        foreach (var d in Delegators)
        {
            var balance = (await Ledger.GetBalanceAsync(new GetBalanceRequest { AccountId = $"user:{d}" })).Balance;
            var pending = (await Distribution(d).GetRewardsAsync(new GetRewardsRequest())).Total;
            var received = balance - Funding + staked[d] + pending;
            var expected = naive[d] / BigInteger.Pow(10, 18);
            Assert.True(received <= expected, $"{d}: F1 paid {received}, more than the naive {expected}");
            Assert.True(expected - received <= settlements[d] + Nodes.Length + 1, $"{d}: F1 paid {received}, the naive split {expected}: more apart than its {settlements[d]} roundings");
            var claimed = await Distribution(d).ClaimRewardsAsync(new ClaimRewardsRequest());
            Assert.Equal(pending, claimed.Total);
            Assert.Equal(0, (await Distribution(d).GetRewardsAsync(new GetRewardsRequest())).Total);
        }
        foreach (var n in Nodes)
            Assert.Equal(operators[n], (await Ledger.GetBalanceAsync(new GetBalanceRequest { AccountId = $"operator:{n}" })).Balance);
        var stats = await Ledger.GetStatsAsync(new GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits && stats.Invariants.RewardsPoolCoversPending
                    && stats.Invariants.StakingPoolMatchesStake && stats.Invariants.UnbondingPoolMatchesEntries, stats.Invariants.ToString());
        var epochs = await Distribution("d0").ListEpochsAsync(new ListEpochsRequest { Limit = 500 });
        Assert.All(epochs.Epochs.SelectMany(e => e.Nodes), n => Assert.Equal(n.Reward, n.Commission + n.DelegatorsShare));
    }

    /// <summary>The naive way: every epoch, every delegator of every node its share of the delegators' part, by the shares it holds now.</summary>
    async Task SplitNaivelyAsync(IReadOnlyList<NodeWork> work, Dictionary<string, BigInteger> naive, Dictionary<string, long> operators)
    {
        var holdings = new List<Delegation>();
        foreach (var d in Delegators) holdings.AddRange((await As("ada", "admin").ListDelegationsAsync(new ListDelegationsRequest { Delegator = d })).Delegations);
        var validators = (await As("ada", "admin").ListValidatorsAsync(new ListValidatorsRequest())).Validators.ToDictionary(v => v.Node);
        foreach (var w in work)
        {
            var reward = (long)Math.Floor((decimal)w.CpuSeconds * 1000 + (decimal)w.MemoryGibHours * 100 + (decimal)w.RelayGib * 10000);
            var total = Shares(validators[w.Node].Shares);
            if (total.IsZero || validators[w.Node].Tokens == 0)
            {
                operators[w.Node] += reward;
                continue;
            }
            var commission = (long)Math.Floor(reward * decimal.Parse(validators[w.Node].CommissionRate, System.Globalization.CultureInfo.InvariantCulture));
            operators[w.Node] += commission;
            foreach (var holding in holdings.Where(h => h.Node == w.Node))
                naive[holding.Delegator] += (reward - commission) * Shares(holding.Shares) * BigInteger.Pow(10, 18) / total;
        }
    }

    static BigInteger Shares(string text) => BigInteger.Parse(text.Replace(".", ""), System.Globalization.CultureInfo.InvariantCulture);
}
