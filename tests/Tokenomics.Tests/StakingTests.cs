using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Platform.TestSupport;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Tests;

/// <summary>Staking over a real PostgreSQL: shares, unbonding and its cancel, redelegation, slashes that reach later entries, jail.</summary>
public sealed class StakingTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
    {
        ["Tokenomics:Genesis:unbonding_period_seconds"] = "3600",
        ["Tokenomics:Genesis:sla_slash_fraction"] = "0.1",
        ["Tokenomics:Genesis:downtime_slash_fraction"] = "0.05",
        ["Tokenomics:Genesis:jail_seconds"] = "3600",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Tokenomics.TokenomicsClient Ledger(string user, string role = "viewer") => new(host.Channel(TestInfrastructure.Token(user, role)));
    V1.Staking.StakingClient As(string user, string role = "viewer") => new(host.Channel(TestInfrastructure.Token(user, role)));
    V1.Staking.StakingClient Operator => As("opal", "operator");
    V1.Staking.StakingClient Admin => As("ada", "admin");

    async Task<long> BalanceAsync(string user) => (await Ledger("ada", "admin").GetBalanceAsync(new GetBalanceRequest { AccountId = $"user:{user}" })).Balance;

    async Task FundAsync(string user, long amount)
    {
        var admin = Ledger("ada", "admin");
        await admin.MintAsync(new MintRequest { IdempotencyKey = $"mint-{Guid.NewGuid()}", Amount = amount });
        await admin.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = $"grant-{Guid.NewGuid()}", DebitAccountId = "treasury", CreditAccountId = $"user:{user}", Amount = amount });
    }

    async Task<long> StakeOfAsync(string user, string node) =>
        (await As(user).ListDelegationsAsync(new ListDelegationsRequest())).Delegations.SingleOrDefault(d => d.Node == node)?.Tokens ?? 0;

    async Task AssertInvariantsAsync()
    {
        var stats = await Ledger("vera").GetStatsAsync(new GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits && stats.Invariants.NegativeAccounts == 0, stats.Invariants.ToString());
        Assert.True(stats.Invariants.StakingPoolMatchesStake, $"staking pool against validators: {stats}");
        Assert.True(stats.Invariants.UnbondingPoolMatchesEntries, $"unbonding pool against entries: {stats}");
        Assert.True(stats.Invariants.RewardsPoolCoversPending, $"rewards pool against what is owed: {stats}");
    }

    [Fact]
    public async Task Stake_buys_shares_unstake_waits_out_unbonding_and_a_cancel_stakes_it_again()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-a", CommissionRate = "0.1" });
        await FundAsync("dora", 1_000);
        var staked = await As("dora").StakeAsync(new StakeRequest { Node = "node-a", Amount = 600, IdempotencyKey = "stake-1" });
        Assert.Equal(("dora", "node-a", 600L, "600.000000000000000000", false), (staked.Delegator, staked.Node, staked.Tokens, staked.Shares, staked.Replayed));
        Assert.Equal(400, await BalanceAsync("dora"));

        var again = await As("dora").StakeAsync(new StakeRequest { Node = "node-a", Amount = 600, IdempotencyKey = "stake-1" });
        Assert.Equal((true, 600L, 400L), (again.Replayed, again.Tokens, await BalanceAsync("dora")));
        var conflict = await Assert.ThrowsAsync<RpcException>(() => As("dora").StakeAsync(new StakeRequest { Node = "node-a", Amount = 5, IdempotencyKey = "stake-1" }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, conflict.StatusCode);

        var unbonding = await As("dora").UnstakeAsync(new UnstakeRequest { Node = "node-a", Amount = 250, IdempotencyKey = "unstake-1" });
        Assert.Equal(("unbonding", 250L, 250L), (unbonding.State, unbonding.InitialBalance, unbonding.Balance));
        Assert.InRange(unbonding.CompletesAtMs - unbonding.CreatedAtMs, 3_599_000, 3_601_000);
        Assert.Equal((350L, 400L), (await StakeOfAsync("dora", "node-a"), await BalanceAsync("dora")));
        var stats = await Ledger("vera").GetStatsAsync(new GetStatsRequest());
        Assert.Equal((350L, 250L, 1), (stats.TotalStaked, stats.Unbonding, stats.Stakers));
        await AssertInvariantsAsync();

        var back = await As("dora").CancelUnbondingAsync(new CancelUnbondingRequest { UnbondingId = unbonding.UnbondingId });
        Assert.Equal((600L, false), (back.Tokens, back.Replayed));
        Assert.True((await As("dora").CancelUnbondingAsync(new CancelUnbondingRequest { UnbondingId = unbonding.UnbondingId })).Replayed);
        var entries = await As("dora").ListUnbondingsAsync(new ListUnbondingsRequest());
        Assert.Equal("cancelled", entries.Unbondings.Single().State);
        Assert.Equal(600, await StakeOfAsync("dora", "node-a"));
        // Somebody else's entry is not theirs to cancel.
        var foreign = await Assert.ThrowsAsync<RpcException>(() => As("eve").CancelUnbondingAsync(new CancelUnbondingRequest { UnbondingId = unbonding.UnbondingId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, foreign.StatusCode);
        await AssertInvariantsAsync();
    }

    [Fact]
    public async Task An_unbonding_completes_after_its_period_and_pays_the_delegator()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var quick = await ServiceHost<Program>.StartAsync(new Dictionary<string, string> { ["Tokenomics:Genesis:unbonding_period_seconds"] = "60" },
            services => services.AddSingleton<TimeProvider>(clock));
        var staking = new V1.Staking.StakingClient(quick.Channel(TestInfrastructure.Token("opal", "operator")));
        var ledger = new V1.Tokenomics.TokenomicsClient(quick.Channel(TestInfrastructure.Token("ada", "admin")));
        await staking.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-q", CommissionRate = "0" });
        await ledger.MintAsync(new MintRequest { IdempotencyKey = "m", Amount = 100 });
        await ledger.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "g", DebitAccountId = "treasury", CreditAccountId = "user:quinn", Amount = 100 });
        var quinn = new V1.Staking.StakingClient(quick.Channel(TestInfrastructure.Token("quinn", "viewer")));
        await quinn.StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-q", Amount = 100 });
        var entry = await quinn.UnstakeAsync(new UnstakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-q", Amount = 100 });
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("unbonding", (await quinn.ListUnbondingsAsync(new ListUnbondingsRequest())).Unbondings.Single().State);

        clock.Advance(TimeSpan.FromSeconds(31));
        await Eventually.HoldsAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));   // the completion job runs every second of the service's clock
            return (await quinn.ListUnbondingsAsync(new ListUnbondingsRequest())).Unbondings.Single().State == "completed";
        }, "the unbonding completed");
        Assert.Equal(100, (await ledger.GetBalanceAsync(new GetBalanceRequest { AccountId = "user:quinn" })).Balance);
        var late = await Assert.ThrowsAsync<RpcException>(() => quinn.CancelUnbondingAsync(new CancelUnbondingRequest { UnbondingId = entry.UnbondingId }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, late.StatusCode);
    }

    [Fact]
    public async Task A_slash_lowers_every_delegator_by_the_same_fraction_and_reaches_entries_begun_after_the_infraction_only()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-s", CommissionRate = "0.1" });
        await FundAsync("ann", 1_000);
        await FundAsync("ben", 3_000);
        await As("ann").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-s", Amount = 1_000 });
        await As("ben").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-s", Amount = 3_000 });
        var before = await As("ben").UnstakeAsync(new UnstakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-s", Amount = 1_000 });   // left before the infraction
        await Task.Delay(20);
        var infraction = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        var after = await As("ann").UnstakeAsync(new UnstakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-s", Amount = 200 });     // left after it: still at stake then

        var slash = await Admin.SlashValidatorAsync(new SlashRequest
        {
            Node = "node-s", Reason = "sla", Evidence = "job 42 missed its deadline", InfractionAtMs = infraction.ToUnixTimeMilliseconds(),
        });
        // At stake at the infraction: 800 + 2,000 bonded and ann's 200 since unbonded = 3,000; a tenth is 300: 20 from
        // ann's entry, 280 from the stake, which every share loses alike (2,800 → 2,520, so 9/10 each).
        Assert.Equal((300L, "0.1", 0L), (slash.Amount, slash.Fraction, slash.JailedUntilMs));
        Assert.Equal((720L, 1_800L), (await StakeOfAsync("ann", "node-s"), await StakeOfAsync("ben", "node-s")));
        var entries = (await As("ann").ListUnbondingsAsync(new ListUnbondingsRequest())).Unbondings.Concat((await As("ben").ListUnbondingsAsync(new ListUnbondingsRequest())).Unbondings)
            .ToDictionary(u => u.UnbondingId, u => u.Balance);
        Assert.Equal((1_000L, 180L), (entries[before.UnbondingId], entries[after.UnbondingId]));

        // The same evidence again slashes nothing more.
        var again = await Admin.SlashValidatorAsync(new SlashRequest { Node = "node-s", Reason = "sla", Evidence = "job 42 missed its deadline", InfractionAtMs = infraction.ToUnixTimeMilliseconds() });
        Assert.Equal((true, 300L), (again.Replayed, again.Amount));
        var stats = await Ledger("vera").GetStatsAsync(new GetStatsRequest());
        Assert.Equal((300L, 4_000L - 300L), (stats.Burned, stats.TotalSupply));
        await AssertInvariantsAsync();
    }

    [Fact]
    public async Task A_slash_burns_a_share_of_what_was_at_stake_at_the_infraction_not_of_stake_bonded_since_and_an_old_one_is_refused()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-w", CommissionRate = "0" });
        await FundAsync("wes", 1_000);
        await FundAsync("whale", 9_000);
        await As("wes").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-w", Amount = 1_000 });
        await Task.Delay(20);
        var infraction = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await As("whale").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-w", Amount = 9_000 });   // after the infraction: not at stake then

        var slash = await Admin.SlashValidatorAsync(new SlashRequest { Node = "node-w", Reason = "sla", Evidence = "job 9", InfractionAtMs = infraction.ToUnixTimeMilliseconds() });
        Assert.Equal(100L, slash.Amount);                                                     // a tenth of the 1,000, not of 10,000
        Assert.Equal((990L, 8_910L), (await StakeOfAsync("wes", "node-w"), await StakeOfAsync("whale", "node-w")));
        var old = await Assert.ThrowsAsync<RpcException>(() => Admin.SlashValidatorAsync(new SlashRequest
        {
            Node = "node-w", Reason = "sla", Evidence = "job 1", InfractionAtMs = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeMilliseconds(),
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, old.StatusCode);
        Assert.Contains("infraction_at_ms", old.Status.Detail);
        // Only whoever registered a validator (or an admin) unjails it; nobody mints into the staking pools.
        var stranger = await Assert.ThrowsAsync<RpcException>(() => As("otto", "operator").UnjailAsync(new UnjailRequest { Node = "node-w" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, stranger.StatusCode);
        var minted = await Assert.ThrowsAsync<RpcException>(() => Ledger("scheduler", "service").MintAsync(new MintRequest { IdempotencyKey = "m", CreditAccountId = "staking-pool", Amount = 5 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, minted.StatusCode);
        await AssertInvariantsAsync();
    }

    [Fact]
    public async Task A_slash_reaches_stake_redelegated_after_the_infraction_and_redelegated_stake_cannot_move_on()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-r1", CommissionRate = "0" });
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-r2", CommissionRate = "0" });
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-r3", CommissionRate = "0" });
        await FundAsync("cleo", 1_000);
        await As("cleo").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-r1", Amount = 1_000 });
        var infraction = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        var moved = await As("cleo").RedelegateAsync(new RedelegateRequest { SourceNode = "node-r1", DestinationNode = "node-r2", Amount = 600, IdempotencyKey = "move-1" });
        Assert.Equal((600L, false), (moved.Amount, moved.Replayed));
        Assert.True((await As("cleo").RedelegateAsync(new RedelegateRequest { SourceNode = "node-r1", DestinationNode = "node-r2", Amount = 600, IdempotencyKey = "move-1" })).Replayed);
        Assert.Equal((400L, 600L), (await StakeOfAsync("cleo", "node-r1"), await StakeOfAsync("cleo", "node-r2")));

        var onward = await Assert.ThrowsAsync<RpcException>(() =>
            As("cleo").RedelegateAsync(new RedelegateRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), SourceNode = "node-r2", DestinationNode = "node-r3", Amount = 100 }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, onward.StatusCode);

        var slash = await Admin.SlashValidatorAsync(new SlashRequest { Node = "node-r1", Reason = "sla", Evidence = "job 7", InfractionAtMs = infraction.ToUnixTimeMilliseconds() });
        // A tenth of the 1,000 at stake: 60 from what moved to node-r2, 40 from node-r1's own 400.
        Assert.Equal(100L, slash.Amount);
        Assert.Equal((360L, 540L), (await StakeOfAsync("cleo", "node-r1"), await StakeOfAsync("cleo", "node-r2")));
        await AssertInvariantsAsync();
    }

    [Fact]
    public async Task Downtime_jails_a_validator_which_earns_nothing_until_unjailed_after_its_time()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-j", CommissionRate = "0" });
        await FundAsync("jo", 100);
        await As("jo").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-j", Amount = 100 });
        var slash = await Admin.SlashValidatorAsync(new SlashRequest { Node = "node-j", Reason = "downtime", Evidence = "leases missed", InfractionAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        Assert.Equal(5L, slash.Amount);
        Assert.True(slash.JailedUntilMs > DateTimeOffset.UtcNow.AddMinutes(59).ToUnixTimeMilliseconds());
        var validator = (await As("jo").ListValidatorsAsync(new ListValidatorsRequest())).Validators.Single(v => v.Node == "node-j");
        Assert.Equal((true, 95L, 5L, 1), (validator.Jailed, validator.Tokens, validator.Slashed, validator.Delegators));
        var early = await Assert.ThrowsAsync<RpcException>(() => Operator.UnjailAsync(new UnjailRequest { Node = "node-j" }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, early.StatusCode);
        Assert.Contains("jailed until", early.Status.Detail);
    }

    [Fact]
    public async Task Leases_missed_within_the_window_prove_downtime_once_and_only_compute_reports_them()
    {
        const string node = "node-downtime-watch";
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = node, CommissionRate = "0" });
        await FundAsync("lena", 10_000);
        await As("lena").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = node, Amount = 10_000 });
        var redis = host.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetSubscriber();
        async Task LapseAsync(string source, string id) => await redis.PublishAsync(StackExchange.Redis.RedisChannel.Literal("platform.events.nodes"),
            System.Text.Json.JsonSerializer.Serialize(new { id, type = "node.not_ready", source, time = DateTimeOffset.UtcNow, data = new { nodeId = Guid.NewGuid(), name = node, status = "NotReady" } }));

        await LapseAsync("gateway", $"forged-{Guid.NewGuid()}");   // not Compute's: not a lapse
        await LapseAsync("gateway", $"forged-{Guid.NewGuid()}");
        await LapseAsync("gateway", $"forged-{Guid.NewGuid()}");
        await LapseAsync("compute", $"lapse-1-{Guid.NewGuid()}");
        await LapseAsync("compute", $"lapse-2-{Guid.NewGuid()}");
        await Task.Delay(500);
        Assert.False((await As("lena").ListValidatorsAsync(new ListValidatorsRequest())).Validators.Single(v => v.Node == node).Jailed);
        await LapseAsync("compute", $"lapse-3-{Guid.NewGuid()}");   // the third within the hour: downtime
        await Eventually.HoldsAsync(async () => (await As("lena").ListValidatorsAsync(new ListValidatorsRequest())).Validators.Single(v => v.Node == node).Jailed,
            "the validator jailed after its third missed lease");
        await LapseAsync("compute", $"lapse-4-{Guid.NewGuid()}");   // jailed: not slashed again
        await Task.Delay(500);
        var validator = (await As("lena").ListValidatorsAsync(new ListValidatorsRequest())).Validators.Single(v => v.Node == node);
        Assert.Equal((500L, 9_500L), (validator.Slashed, validator.Tokens));   // 5 % once
        await AssertInvariantsAsync();
    }

    [Fact]
    public async Task Only_people_stake_their_own_tokens_and_only_admins_read_another_delegators_staking()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-p", CommissionRate = "0.05" });
        await FundAsync("pia", 100);
        await As("pia").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-p", Amount = 100 });

        var nosy = await Assert.ThrowsAsync<RpcException>(() => As("eve").ListDelegationsAsync(new ListDelegationsRequest { Delegator = "pia" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, nosy.StatusCode);
        Assert.Single((await Admin.ListDelegationsAsync(new ListDelegationsRequest { Delegator = "pia" })).Delegations);
        var rewards = new V1.Distribution.DistributionClient(host.Channel(TestInfrastructure.Token("eve", "viewer")));
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => rewards.GetRewardsAsync(new GetRewardsRequest { Delegator = "pia" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => As("eve").ListUnbondingsAsync(new ListUnbondingsRequest { Delegator = "pia" }).ResponseAsync)).StatusCode);
        var anonymous = new V1.Staking.StakingClient(host.AnonymousChannel());
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => anonymous.StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-p", Amount = 1 }).ResponseAsync)).StatusCode);
        var broke = await Assert.ThrowsAsync<RpcException>(() => As("eve").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-p", Amount = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, broke.StatusCode);
        var service = await Assert.ThrowsAsync<RpcException>(() => As("scheduler", "service").StakeAsync(new StakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-p", Amount = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, service.StatusCode);
        var viewer = await Assert.ThrowsAsync<RpcException>(() => As("pia").RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-x", CommissionRate = "0" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, viewer.StatusCode);
        var slash = await Assert.ThrowsAsync<RpcException>(() => As("pia").SlashValidatorAsync(new SlashRequest { Node = "node-p", Reason = "sla", Evidence = "x", InfractionAtMs = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, slash.StatusCode);
        var overUnstake = await Assert.ThrowsAsync<RpcException>(() => As("pia").UnstakeAsync(new UnstakeRequest { IdempotencyKey = Guid.NewGuid().ToString("N"), Node = "node-p", Amount = 101 }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, overUnstake.StatusCode);
        // Nobody pays into or out of the staking pools but staking itself.
        var drain = await Assert.ThrowsAsync<RpcException>(() => Ledger("scheduler", "service").CreateTransferAsync(new CreateTransferRequest
        {
            IdempotencyKey = "drain", DebitAccountId = "staking-pool", CreditAccountId = "user:eve", Amount = 1,
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, drain.StatusCode);
        Assert.Equal(100, await StakeOfAsync("pia", "node-p"));
        await AssertInvariantsAsync();
    }

    [Fact]
    public async Task An_http_client_may_send_the_key_as_an_Idempotency_Key_header_and_its_retry_stakes_once()
    {
        await Operator.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "node-h", CommissionRate = "0" });
        await FundAsync("hal", 100);
        using var http = host.Http(TestInfrastructure.Token("hal", "viewer"));
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokenomics/stake")
            {
                Content = JsonContent.Create(new { node = "node-h", amount = "40" }), Headers = { { "Idempotency-Key", "hal-stake" } },
            };
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            var replayed = System.Text.Json.JsonDocument.Parse(body).RootElement.TryGetProperty("replayed", out var flag) && flag.GetBoolean();
            Assert.Equal(attempt == 1, replayed);
        }
        Assert.Equal(60, await BalanceAsync("hal"));
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_the_field_and_nothing_moves()
    {
        await FundAsync("bo", 100);
        using var http = host.Http(TestInfrastructure.Token("bo", "viewer"));
        foreach (var (path, body, field) in new (string, object, string)[]
                 {
                     ("/api/tokenomics/stake", new { node = "Node A!", amount = "10", idempotencyKey = "k1" }, "node"),
                     ("/api/tokenomics/stake", new { node = "node-a", amount = "0", idempotencyKey = "k1" }, "amount"),
                     ("/api/tokenomics/stake", new { node = "node-a", amount = "-5", idempotencyKey = "k1" }, "amount"),
                     ("/api/tokenomics/stake", new { node = "node-a", amount = "10" }, "idempotency_key"),
                     ("/api/tokenomics/unstake", new { node = "node-a", amount = "10", idempotencyKey = new string('k', 129) }, "idempotency_key"),
                     ("/api/tokenomics/redelegate", new { sourceNode = "node-a", destinationNode = "node-a", amount = "10", idempotencyKey = "k2" }, "destination_node"),
                     ("/api/tokenomics/unbondings/not-a-uuid/cancel", new { }, "unbonding_id"),
                 })
        {
            using var response = await http.PostAsJsonAsync(path, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {response.StatusCode}");
            Assert.Contains(field, await response.Content.ReadAsStringAsync());
        }
        using (var mismatch = new HttpRequestMessage(HttpMethod.Post, "/api/tokenomics/stake")
               { Content = JsonContent.Create(new { node = "node-a", amount = "10", idempotencyKey = "body" }), Headers = { { "Idempotency-Key", "header" } } })
        {
            using var refused = await http.SendAsync(mismatch);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("differs from the Idempotency-Key header", await refused.Content.ReadAsStringAsync());
        }
        using var unknown = await http.PostAsJsonAsync("/api/tokenomics/stake", new { node = "node-nobody", amount = "10", idempotencyKey = "k3" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(100, await BalanceAsync("bo"));
        await AssertInvariantsAsync();
    }
}
