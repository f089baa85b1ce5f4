extern alias tokenomics;
using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Platform.Scheduler.V1;
using Platform.TestSupport;
using Platform.Tokenomics.V1;
using TokenomicsProgram = tokenomics::Program;

namespace Platform.Scheduler.Tests;

/// <summary>
/// Jobs paid for in tokens, end to end through the real Tokenomics: placing a job reserves its price from its owner
/// for the node's operator; a run that ends posts what it used; a placement lost with its node is voided and the job's
/// next placement pays the node that ran it; an owner who cannot pay has the job failed, nothing moved.
/// </summary>
public sealed class JobPaymentTests : IAsyncLifetime
{
    const long Tokens = 1_000_000;      // ledger units per token
    ServiceHost<TokenomicsProgram> tokenomics = null!;
    GrpcChannel ledgerChannel = null!;
    SchedulerWorld world = null!;

    public async Task InitializeAsync()
    {
        var port = Platform.AppHost.Hosting.Ports.Free();
        tokenomics = await ServiceHost<TokenomicsProgram>.StartOnAsync(await TestInfrastructure.CreateDatabaseAsync("tokenomics"),
            kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        ledgerChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions
        {
            HttpHandler = new BearerHandler(TestInfrastructure.Token("ada", "admin")) { InnerHandler = new SocketsHttpHandler() },
        });
        world = await SchedulerWorld.StartAsync(new Dictionary<string, string>
        {
            ["services:tokenomics:grpc:0"] = $"http://127.0.0.1:{port}",
            ["Scheduler:Payments:Enabled"] = "true",
        });
    }

    public async Task DisposeAsync()
    {
        await world.DisposeAsync();
        ledgerChannel.Dispose();
        await tokenomics.DisposeAsync();
    }

    Tokenomics.V1.Tokenomics.TokenomicsClient Ledger => new(ledgerChannel);
    Staking.StakingClient Stakes => new(ledgerChannel);

    async Task<Account> AccountAsync(string id) => await Ledger.GetBalanceAsync(new GetBalanceRequest { AccountId = id });

    static SubmitJobRequest Job(string name) =>
        new() { Name = name, SlaTier = "silver", CpuRequired = 1, MemoryRequired = 128, Command = "sleep", Args = { "60" }, MaxRuntimeSeconds = 600 };

    [Fact]
    public async Task A_job_pays_its_node_for_the_time_it_ran_and_a_placement_lost_with_its_node_pays_nothing()
    {
        await Ledger.MintAsync(new MintRequest { IdempotencyKey = "mint", Amount = 1_000 * Tokens });
        await Ledger.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "grant", DebitAccountId = "treasury", CreditAccountId = "user:uma", Amount = 1_000 * Tokens });
        // 3.6 tokens per core-hour: one core for the job's 600 s maximum is 0.6 tokens.
        var a = await world.AddNodeAsync("paid-a", labels: new() { ["price-per-core-hour"] = "3.6" });

        var first = await world.Jobs("uma", "operator").SubmitJobAsync(Job("first"));
        var running = await world.WaitForAsync(first.JobId, "running");
        var reservedNow = await AccountAsync("user:uma");
        Assert.Equal((1_000 * Tokens, 1_000 * Tokens - 600_000, 600_000L), (reservedNow.Balance, reservedNow.Available, reservedNow.DebitsPending));
        Assert.Equal(600_000, (await AccountAsync("operator:paid-a")).CreditsPending);

        await world.ExitAsync(a.NodeId, running.WorkloadId, 0);
        var done = await world.WaitForAsync(first.JobId, "completed");
        var ran = (done.FinishedAtMs - done.StartedAtMs) / 1000.0;
        await Eventually.HoldsAsync(async () => (await AccountAsync("operator:paid-a")).Balance > 0, "the first job's price posted");
        var paidA = (await AccountAsync("operator:paid-a")).Balance;
        Assert.Equal((long)Math.Ceiling(600_000 * ran / 600), paidA);   // 1,000 units a second it ran, not the 600 s reserved
        var uma = await AccountAsync("user:uma");
        Assert.Equal((1_000 * Tokens - paidA, 0L), (uma.Balance, uma.DebitsPending));

        // The second job's node goes silent: its placement is voided, and the node that then runs it is paid.
        var second = await world.Jobs("uma", "operator").SubmitJobAsync(Job("second"));
        await world.WaitForAsync(second.JobId, "running");
        await Eventually.HoldsAsync(async () => (await AccountAsync("user:uma")).DebitsPending == 600_000, "the second job's price reserved");
        var b = await world.AddNodeAsync("paid-b", labels: new() { ["price-per-core-hour"] = "3.6" });
        world.Silent[a.NodeId] = true;
        var again = await world.WaitForAsync(second.JobId, "running", TimeSpan.FromSeconds(60), attempt: 2);
        Assert.Equal(b.NodeId, again.NodeId);
        await world.ExitAsync(b.NodeId, again.WorkloadId, 0);
        await world.WaitForAsync(second.JobId, "completed");
        await Eventually.HoldsAsync(async () => (await AccountAsync("operator:paid-b")).Balance > 0 && (await AccountAsync("user:uma")).DebitsPending == 0,
            "the second job's lost placement voided and its second one posted");
        Assert.Equal(paidA, (await AccountAsync("operator:paid-a")).Balance);   // nothing more for the node that lost it
        Assert.Equal(1_000 * Tokens - paidA - (await AccountAsync("operator:paid-b")).Balance, (await AccountAsync("user:uma")).Balance);
        var transfers = (await Ledger.ListTransfersAsync(new ListTransfersRequest { AccountId = "user:uma" })).Transfers;
        Assert.Equal(["posted", "voided", "posted"], transfers.Where(t => t.Memo.StartsWith("job ")).Reverse().Select(t => t.State));

        var stats = await Ledger.GetStatsAsync(new Tokenomics.V1.GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits && stats.Invariants.NegativeAccounts == 0, stats.Invariants.ToString());
    }

    [Fact]
    public async Task A_node_that_loses_a_job_which_then_misses_its_deadline_has_its_validator_slashed_once_for_an_SLA_breach()
    {
        // 500 tokens staked on sla-a (ada keeps 500 to pay for the job); sla_slash_fraction is 0.001 by default.
        await Ledger.MintAsync(new MintRequest { IdempotencyKey = "mint-sla", Amount = 1_000 * Tokens });
        await Ledger.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "grant-sla", DebitAccountId = "treasury", CreditAccountId = "user:ada", Amount = 1_000 * Tokens });
        await Stakes.RegisterValidatorAsync(new RegisterValidatorRequest { Node = "sla-a", CommissionRate = "0" });
        await Stakes.StakeAsync(new StakeRequest { Node = "sla-a", Amount = 500 * Tokens, IdempotencyKey = "stake-sla" });
        var a = await world.AddNodeAsync("sla-a");

        var deadline = DateTimeOffset.UtcNow.AddSeconds(25);
        var job = await world.Jobs("ada", "operator").SubmitJobAsync(new SubmitJobRequest
        {
            Name = "due", SlaTier = "gold", CpuRequired = 1, MemoryRequired = 128, Command = "sleep", Args = { "600" }, EstimatedRuntimeSeconds = 5,
            DeadlineMs = deadline.ToUnixTimeMilliseconds(),
        });
        await world.WaitForAsync(job.JobId, "running");
        var b = await world.AddNodeAsync("sla-b");
        world.Silent[a.NodeId] = true;
        var again = await world.WaitForAsync(job.JobId, "running", TimeSpan.FromSeconds(60), attempt: 2);
        Assert.Equal(b.NodeId, again.NodeId);
        if (DateTimeOffset.UtcNow < deadline.AddSeconds(-3)) // (on a machine slow enough to get here late, the next step says it all)
            Assert.Equal(0, await SlashedAsync("sla-a"));   // lost, but the deadline may still be met: no breach yet

        // The deadline passes with the job still running elsewhere: sla-a breached its SLA, and is slashed once.
        await Eventually.HoldsAsync(async () => await SlashedAsync("sla-a") > 0, "sla-a slashed for the SLA breach", TimeSpan.FromSeconds(90));
        Assert.Equal(500 * Tokens / 1000, await SlashedAsync("sla-a"));
        await world.ExitAsync(b.NodeId, again.WorkloadId, 0);
        await world.WaitForAsync(job.JobId, "completed");
        await Task.Delay(TimeSpan.FromSeconds(2));   // more rounds: the breach is not reported again
        Assert.Equal(500 * Tokens / 1000, await SlashedAsync("sla-a"));
        Assert.Equal(0, await SlashedAsync("sla-b"));
        var stats = await Ledger.GetStatsAsync(new Tokenomics.V1.GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits && stats.Invariants.NegativeAccounts == 0, stats.Invariants.ToString());
    }

    async Task<long> SlashedAsync(string node) =>
        (await Stakes.ListValidatorsAsync(new ListValidatorsRequest())).Validators.FirstOrDefault(v => v.Node == node)?.Slashed ?? 0;

    [Fact]
    public async Task A_job_whose_owner_cannot_pay_fails_and_nothing_moves()
    {
        await world.AddNodeAsync("paid-c", labels: new() { ["price-per-core-hour"] = "3.6" });
        var job = await world.Jobs("penny", "operator").SubmitJobAsync(Job("unpaid"));
        var failed = await world.WaitForAsync(job.JobId, "failed");
        Assert.Equal("payment-refused", failed.Reason);
        Assert.Contains("user:penny has 0 available", failed.History.Last().Message);
        Assert.Empty(await world.Workloads.ListWorkloadsAsync(new Compute.V1.ListWorkloadsRequest { Label = $"scheduler-job={job.JobId}" }) is { } listed ? listed.Workloads : []);
        Assert.Equal(0, (await AccountAsync("operator:paid-c")).CreditsPending);
    }
}
