using Grpc.Core;
using Npgsql;
using Platform.TestSupport;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Tests;

/// <summary>
/// Sixteen clients at once moving tokens among themselves at random — some requests replayed, some overdrawing, some
/// two-phase — and afterwards: no account below zero, balances equal to the supply, debits equal to credits, and every
/// idempotency key applied exactly once.
/// </summary>
public sealed class LedgerConcurrencyTests : IAsyncLifetime
{
    const int Clients = 16;
    const int RequestsEach = 60;
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Copies_of_one_request_racing_each_other_move_once_and_all_answer_the_same_transfer()
    {
        var admin = new V1.Tokenomics.TokenomicsClient(host.Channel(TestInfrastructure.Token("ada", "admin")));
        await admin.MintAsync(new MintRequest { IdempotencyKey = "genesis", Amount = 100 });
        await admin.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "grant", DebitAccountId = "treasury", CreditAccountId = "user:olga", Amount = 100 });
        var olga = new V1.Tokenomics.TokenomicsClient(host.Channel(TestInfrastructure.Token("olga", "viewer")));
        // Twice the amount is more than olga has: a copy judged against the balance the first left would be refused.
        var request = new CreateTransferRequest { IdempotencyKey = "pay-once", CreditAccountId = "user:otto", Amount = 80 };
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () => await olga.CreateTransferAsync(request))));
        Assert.Single(answers.Select(a => a.TransferId).Distinct());
        Assert.Single(answers, a => !a.Replayed);
        Assert.Equal(20, (await admin.GetBalanceAsync(new GetBalanceRequest { AccountId = "user:olga" })).Balance);
    }

    [Fact]
    public async Task Sixteen_clients_racing_with_replays_overdrafts_and_two_phase_transfers_keep_every_invariant()
    {
        var admin = new V1.Tokenomics.TokenomicsClient(host.Channel(TestInfrastructure.Token("ada", "admin")));
        await admin.MintAsync(new MintRequest { IdempotencyKey = "genesis", Amount = Clients * 1_000 });
        for (var c = 0; c < Clients; c++)
            await admin.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = $"grant-{c}", DebitAccountId = "treasury", CreditAccountId = $"user:client-{c}", Amount = 1_000 });

        var applied = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var client = new V1.Tokenomics.TokenomicsClient(host.Channel(TestInfrastructure.Token($"client-{c}", "viewer")));
            for (var i = 0; i < RequestsEach; i++)
            {
                var request = new CreateTransferRequest
                {
                    IdempotencyKey = $"c{c}-{i}", CreditAccountId = $"user:client-{(c + 1 + random.Next(Clients - 1)) % Clients}",
                    // Now and then more than anyone holds: refused, nothing moved.
                    Amount = random.Next(10) == 0 ? 1_000_000 : 1 + random.Next(150), Pending = random.Next(4) == 0,
                };
                for (var send = 0; send < (random.Next(5) == 0 ? 2 : 1); send++) // some sent twice, as a client retrying would
                {
                    try
                    {
                        var transfer = await client.CreateTransferAsync(request);
                        Assert.True(applied.GetOrAdd(request.IdempotencyKey, transfer.TransferId) == transfer.TransferId, "a replay answered another transfer");
                        if (transfer is { State: "pending", Replayed: false })
                        {
                            var resolve = new ResolveTransferRequest { TransferId = transfer.TransferId };
                            if (random.Next(2) == 0) await client.PostTransferAsync(resolve);
                            else await client.VoidTransferAsync(resolve);
                        }
                    }
                    catch (RpcException ex) when (ex.StatusCode == StatusCode.Aborted && ex.Status.Detail.Contains("available, less than"))
                    {
                        // Insufficient funds: refused as a whole.
                    }
                }
            }
        })));

        var stats = await admin.GetStatsAsync(new GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits, stats.ToString());
        Assert.Equal((0, Clients * 1_000L, 0L), (stats.Invariants.NegativeAccounts, stats.TotalSupply, stats.Pending));
        await using var db = NpgsqlDataSource.Create(host.ConnectionString);
        await using var command = db.CreateCommand("SELECT count(*), count(DISTINCT (requested_by, idempotency_key)) FROM tokenomics.transfers WHERE requested_by LIKE 'user:client-%'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((applied.Count, applied.Count), ((int)reader.GetInt64(0), (int)reader.GetInt64(1)));
        var sum = 0L;
        for (var c = 0; c < Clients; c++)
        {
            var account = await admin.GetBalanceAsync(new GetBalanceRequest { AccountId = $"user:client-{c}" });
            Assert.True(account.Available >= 0);
            sum += account.Balance;
        }
        Assert.Equal(Clients * 1_000L, sum);
    }
}
