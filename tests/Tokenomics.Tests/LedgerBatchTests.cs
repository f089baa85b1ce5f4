using Platform.TestSupport;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Tests;

/// <summary>The batched API: each transfer judged in order against what the ones before it left, on its own, in one transaction.</summary>
public sealed class LedgerBatchTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Tokenomics.TokenomicsClient As(string user, string role) => new(host.Channel(TestInfrastructure.Token(user, role)));

    static CreateTransferRequest Move(string key, string from, string to, long amount, bool pending = false) =>
        new() { IdempotencyKey = key, DebitAccountId = from, CreditAccountId = to, Amount = amount, Pending = pending };

    [Fact]
    public async Task Each_transfer_of_a_batch_is_applied_or_refused_on_its_own_in_order_and_a_replayed_batch_moves_nothing()
    {
        var service = As("scheduler", "service");
        await As("ada", "admin").MintAsync(new MintRequest { IdempotencyKey = "m", Amount = 1_000 });
        var batch = new CreateTransfersRequest
        {
            Transfers =
            {
                Move("t1", "treasury", "user:xena", 100),
                Move("t2", "user:xena", "user:yuri", 150),          // more than the 100 the first gave
                Move("t3", "user:xena", "user:yuri", 60),
                Move("t4", "user:xena", "user:yuri", 50),           // 40 left
                Move("t5", "user:xena", "user:yuri", 30, pending: true),
                Move("t3", "user:xena", "user:yuri", 60),           // the same key and payload again: its first result
                Move("t1", "treasury", "user:xena", 999),           // the same key, another payload
                Move("t6", "user:Bad Name", "user:yuri", 1),
                Move("t7", "staking-pool", "user:yuri", 1),
            },
        };
        var results = (await service.CreateTransfersAsync(batch)).Results;
        Assert.Equal(9, results.Count);
        Assert.Equal(["posted", "", "posted", "", "pending", "posted", "", "", ""], results.Select(r => r.Transfer?.State ?? ""));
        Assert.StartsWith("INSUFFICIENT_FUNDS", results[1].Error);
        Assert.StartsWith("INSUFFICIENT_FUNDS", results[3].Error);
        Assert.True(results[5].Transfer.Replayed);
        Assert.Equal(results[2].Transfer.TransferId, results[5].Transfer.TransferId);
        Assert.StartsWith("IDEMPOTENCY_CONFLICT", results[6].Error);
        Assert.Contains("transfers[7].debit_account_id", results[7].Error);
        Assert.StartsWith("PERMISSION_DENIED", results[8].Error);

        async Task<Account> AccountAsync(string id) => await service.GetBalanceAsync(new GetBalanceRequest { AccountId = id });
        var xena = await AccountAsync("user:xena");
        Assert.Equal((40L, 10L, 30L), (xena.Balance, xena.Available, xena.DebitsPending));
        Assert.Equal(60, (await AccountAsync("user:yuri")).Balance);

        var again = (await service.CreateTransfersAsync(batch)).Results;
        Assert.All(new[] { 0, 2, 4, 5 }, i => Assert.True(again[i].Transfer.Replayed));
        Assert.Equal((40L, 60L), ((await AccountAsync("user:xena")).Balance, (await AccountAsync("user:yuri")).Balance));
        var stats = await service.GetStatsAsync(new GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits && stats.Invariants.NegativeAccounts == 0, stats.Invariants.ToString());
    }
}
