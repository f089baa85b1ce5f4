using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Platform.TestSupport;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Tests;

/// <summary>The ledger over a real PostgreSQL: double entry, idempotency keys, two-phase transfers, who may move what.</summary>
public sealed class LedgerTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Tokenomics.TokenomicsClient As(string user, string role = "viewer") => new(host.Channel(TestInfrastructure.Token(user, role)));
    V1.Tokenomics.TokenomicsClient Admin => As("ada", "admin");

    async Task<long> BalanceAsync(string account) => (await Admin.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).Balance;

    async Task FundAsync(string user, long amount)
    {
        await Admin.MintAsync(new MintRequest { IdempotencyKey = $"mint-{Guid.NewGuid()}", Amount = amount });
        await Admin.CreateTransferAsync(new CreateTransferRequest
        {
            IdempotencyKey = $"grant-{Guid.NewGuid()}", DebitAccountId = "treasury", CreditAccountId = $"user:{user}", Amount = amount,
        });
    }

    static async Task AssertInvariantsAsync(V1.Tokenomics.TokenomicsClient client)
    {
        var stats = await client.GetStatsAsync(new GetStatsRequest());
        Assert.True(stats.Invariants.BalancesEqualSupply, $"balances {stats.Invariants.Balances} against supply {stats.TotalSupply}");
        Assert.True(stats.Invariants.DebitsEqualCredits, $"debits {stats.Invariants.TotalDebits} against credits {stats.Invariants.TotalCredits}");
        Assert.Equal(0, stats.Invariants.NegativeAccounts);
    }

    [Fact]
    public async Task Minted_tokens_move_by_double_entry_and_the_supply_is_what_was_minted_less_what_was_burned()
    {
        await FundAsync("olga", 1_000);
        var sent = await As("olga").CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "rent-1", CreditAccountId = "user:otto", Amount = 300, Memo = "rent" });
        Assert.Equal(("user:olga", "posted", false), (sent.DebitAccountId, sent.State, sent.Replayed));
        await As("otto").BurnAsync(new BurnRequest { IdempotencyKey = "burn-1", Amount = 100 });

        Assert.Equal((700L, 200L), (await BalanceAsync("user:olga"), await BalanceAsync("user:otto")));
        var mine = await As("olga").GetBalanceAsync(new GetBalanceRequest());
        Assert.Equal(("user:olga", 700L, 700L), (mine.AccountId, mine.Balance, mine.Available));
        var stats = await As("vera").GetStatsAsync(new GetStatsRequest());
        Assert.Equal((1_000L, 100L, 900L, 0L, 2), (stats.Minted, stats.Burned, stats.TotalSupply, stats.Treasury, stats.Holders));
        await AssertInvariantsAsync(Admin);

        // 64-bit amounts are strings in JSON, as proto3 says: a browser never rounds them.
        var json = await host.Http(TestInfrastructure.Token("olga", "viewer")).GetStringAsync("/api/tokenomics/balance");
        Assert.Contains("\"balance\": \"700\"", json.Replace("\"balance\":\"", "\"balance\": \""));
    }

    [Fact]
    public async Task A_replayed_key_answers_the_first_result_and_moves_nothing_and_another_payload_is_a_conflict()
    {
        await FundAsync("olga", 500);
        var request = new CreateTransferRequest { IdempotencyKey = "once", CreditAccountId = "user:otto", Amount = 200 };
        var first = await As("olga").CreateTransferAsync(request);
        var again = await As("olga").CreateTransferAsync(request);
        Assert.Equal((first.TransferId, true), (again.TransferId, again.Replayed));
        Assert.Equal(300, await BalanceAsync("user:olga"));

        var conflict = await Assert.ThrowsAsync<RpcException>(() => As("olga").CreateTransferAsync(new CreateTransferRequest(request) { Amount = 201 }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, conflict.StatusCode);
        // Keys are per caller: another user's "once" is their own.
        await FundAsync("otto", 10);
        Assert.False((await As("otto").CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "once", CreditAccountId = "user:olga", Amount = 5 })).Replayed);
    }

    [Fact]
    public async Task An_http_client_may_send_the_key_as_an_Idempotency_Key_header_and_a_retry_moves_nothing_twice()
    {
        await FundAsync("hana", 500);
        using var http = host.Http(TestInfrastructure.Token("hana", "viewer"));
        async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, object body, string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (key is not null) request.Headers.Add("Idempotency-Key", key);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        foreach (var attempt in new[] { false, true })
        {
            var (status, body) = await PostAsync("/api/tokenomics/transfers", new { creditAccountId = "user:hugo", amount = "120" }, "hana-rent");
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.Equal(attempt, System.Text.Json.JsonDocument.Parse(body).RootElement.TryGetProperty("replayed", out var flag) && flag.GetBoolean());
        }
        var (burned, burnBody) = await PostAsync("/api/tokenomics/burn", new { amount = "30" }, "hana-burn");
        Assert.True(burned == HttpStatusCode.OK, burnBody);
        Assert.Equal((350L, 120L), (await BalanceAsync("user:hana"), await BalanceAsync("user:hugo")));

        // The same key with another payload is a conflict, the body's key and the header's must agree, and one is required.
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync("/api/tokenomics/transfers", new { creditAccountId = "user:hugo", amount = "121" }, "hana-rent")).Status);
        var (mismatch, mismatchBody) = await PostAsync("/api/tokenomics/burn", new { amount = "1", idempotencyKey = "body" }, "header");
        Assert.Equal(HttpStatusCode.BadRequest, mismatch);
        Assert.Contains("differs from the Idempotency-Key header", mismatchBody);
        var (missing, missingBody) = await PostAsync("/api/tokenomics/burn", new { amount = "1" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.Contains("idempotency_key", missingBody);
        Assert.Equal((350L, 120L), (await BalanceAsync("user:hana"), await BalanceAsync("user:hugo")));
        await AssertInvariantsAsync(Admin);
    }

    [Fact]
    public async Task An_overdraft_is_refused_and_moves_nothing()
    {
        await FundAsync("olga", 100);
        var refused = await Assert.ThrowsAsync<RpcException>(() => As("olga").CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "too-much", CreditAccountId = "user:otto", Amount = 101 }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, refused.StatusCode);
        Assert.Contains("has 100 available, less than 101", refused.Status.Detail);
        Assert.Equal((100L, 0L), (await BalanceAsync("user:olga"), await BalanceAsync("user:otto")));
        await AssertInvariantsAsync(Admin);
    }

    [Fact]
    public async Task Only_an_accounts_owner_moves_its_funds_and_only_admins_and_services_mint_or_read_others()
    {
        await FundAsync("olga", 100);
        var theft = await Assert.ThrowsAsync<RpcException>(() => As("mallory").CreateTransferAsync(new CreateTransferRequest
        {
            IdempotencyKey = "steal", DebitAccountId = "user:olga", CreditAccountId = "user:mallory", Amount = 50,
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, theft.StatusCode);
        var mint = await Assert.ThrowsAsync<RpcException>(() => As("mallory", "operator").MintAsync(new MintRequest { IdempotencyKey = "free", Amount = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, mint.StatusCode);
        var peek = await Assert.ThrowsAsync<RpcException>(() => As("mallory").GetBalanceAsync(new GetBalanceRequest { AccountId = "user:olga" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, peek.StatusCode);
        var history = await Assert.ThrowsAsync<RpcException>(() => As("mallory").ListTransfersAsync(new ListTransfersRequest { AccountId = "user:olga" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, history.StatusCode);
        // Nobody but the platform's services pays into escrow or the staking pool, nor mints anywhere but the treasury.
        var escrow = await Assert.ThrowsAsync<RpcException>(() => As("olga").CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "e", CreditAccountId = "escrow", Amount = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, escrow.StatusCode);
        var selfMint = await Assert.ThrowsAsync<RpcException>(() => Admin.MintAsync(new MintRequest { IdempotencyKey = "mine", CreditAccountId = "user:ada", Amount = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, selfMint.StatusCode);
        // A user named like a service is not that service: it cannot resolve the service's transfers.
        var reserved = await As("scheduler", "service").CreateTransferAsync(new CreateTransferRequest
        {
            IdempotencyKey = "job-0", DebitAccountId = "user:olga", CreditAccountId = "escrow", Amount = 5, Pending = true,
        });
        var impostor = await Assert.ThrowsAsync<RpcException>(() => As("scheduler").VoidTransferAsync(new ResolveTransferRequest { TransferId = reserved.TransferId }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, impostor.StatusCode);
        await As("scheduler", "service").VoidTransferAsync(new ResolveTransferRequest { TransferId = reserved.TransferId });
        // A platform service acts for the platform (a job's price, a reward): any account.
        await As("scheduler", "service").CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "job-1", DebitAccountId = "user:olga", CreditAccountId = "escrow", Amount = 10 });
        Assert.Equal(90, await BalanceAsync("user:olga"));
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_every_field_and_nothing_moves()
    {
        using var http = host.Http(TestInfrastructure.Token("olga", "viewer"));
        using var response = await http.PostAsJsonAsync("/api/tokenomics/transfers", new
        {
            idempotencyKey = "", debitAccountId = "user:olga", creditAccountId = "issuance", amount = "-5", memo = new string('m', 300), timeoutSeconds = "10",
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        foreach (var field in new[] { "idempotency_key", "credit_account_id", "amount", "memo", "timeout_seconds" }) Assert.Contains($"\"{field}\"", text);
        using var self = await http.PostAsJsonAsync("/api/tokenomics/transfers", new { idempotencyKey = "k", creditAccountId = "user:olga", amount = "5" });
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        using var huge = await http.PostAsJsonAsync("/api/tokenomics/transfers", new { idempotencyKey = "k", creditAccountId = "user:otto", amount = "9223372036854775807" });
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        var stats = await Admin.GetStatsAsync(new GetStatsRequest());
        Assert.Equal((0L, 6), (stats.Invariants.TotalDebits, stats.Accounts));   // the platform's own six, nobody's yet
    }

    [Fact]
    public async Task A_pending_transfer_reserves_then_posts_or_voids_and_voids_itself_at_its_timeout()
    {
        await FundAsync("olga", 1_000);
        var olga = As("olga");
        var reserved = await olga.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "p1", CreditAccountId = "user:otto", Amount = 400, Pending = true });
        Assert.Equal("pending", reserved.State);
        var during = await olga.GetBalanceAsync(new GetBalanceRequest());
        Assert.Equal((1_000L, 600L, 400L), (during.Balance, during.Available, during.DebitsPending));
        var overdraw = await Assert.ThrowsAsync<RpcException>(() => olga.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "p2", CreditAccountId = "user:otto", Amount = 601 }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, overdraw.StatusCode);

        var posted = await olga.PostTransferAsync(new ResolveTransferRequest { TransferId = reserved.TransferId });
        Assert.Equal("posted", posted.State);
        Assert.True((await olga.PostTransferAsync(new ResolveTransferRequest { TransferId = reserved.TransferId })).Replayed);
        Assert.Equal((600L, 400L), (await BalanceAsync("user:olga"), await BalanceAsync("user:otto")));
        var late = await Assert.ThrowsAsync<RpcException>(() => olga.VoidTransferAsync(new ResolveTransferRequest { TransferId = reserved.TransferId }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, late.StatusCode);
        var notTheirs = await Assert.ThrowsAsync<RpcException>(() => As("otto").PostTransferAsync(new ResolveTransferRequest { TransferId = reserved.TransferId }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, notTheirs.StatusCode);

        var voided = await olga.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "p3", CreditAccountId = "user:otto", Amount = 100, Pending = true });
        Assert.Equal("voided", (await olga.VoidTransferAsync(new ResolveTransferRequest { TransferId = voided.TransferId })).State);
        var expiring = await olga.CreateTransferAsync(new CreateTransferRequest { IdempotencyKey = "p4", CreditAccountId = "user:otto", Amount = 50, Pending = true, TimeoutSeconds = 1 });
        await Eventually.HoldsAsync(async () => (await olga.GetBalanceAsync(new GetBalanceRequest())).DebitsPending == 0, "the timed-out transfer voided", TimeSpan.FromSeconds(30));
        var history = await olga.ListTransfersAsync(new ListTransfersRequest { PageSize = 2 });
        Assert.Equal([expiring.TransferId, voided.TransferId], history.Transfers.Select(t => t.TransferId));
        Assert.Equal("voided", history.Transfers[0].State);
        var rest = await olga.ListTransfersAsync(new ListTransfersRequest { PageSize = 2, PageToken = history.NextPageToken });
        Assert.Equal(reserved.TransferId, rest.Transfers[0].TransferId);
        Assert.Equal(600, await BalanceAsync("user:olga"));
        await AssertInvariantsAsync(Admin);
    }
}
