using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// Sixteen clients move money through the gateway — transfers, replays of earlier keys, overdrafts, two-phase
/// reservations posted or voided — while Tokenomics is killed with SIGKILL and restarted by the AppHost. Each client
/// retries whatever got no definite answer with the same key, as a client should. Afterwards no account is negative,
/// the invariants hold, every key the clients were told applied is in the ledger exactly once and no refused one is,
/// and every balance is what its transfers add up to.
/// </summary>
public sealed class TokenomicsKillTests
{
    const int Clients = 16, OperationsEach = 50;
    const long Funding = 10_000;

    [Fact]
    public async Task Money_moved_while_Tokenomics_is_killed_is_applied_exactly_once_and_adds_up()
    {
        await using var platform = await PlatformProcess.StartAsync(nodes: 1);
        using var admin = platform.CreateHttpClient();
        // The clients act as a platform service, which may move any account (people may move only their own).
        using var service = new HttpClient { BaseAddress = platform.Gateway, Timeout = TimeSpan.FromSeconds(30) };
        service.DefaultRequestHeaders.Authorization = new("Bearer", await platform.ServiceTokenAsync("scheduler"));
        await Definite(await admin.PostAsJsonAsync("/api/tokenomics/mint", new { idempotencyKey = "fund", amount = (Clients * Funding).ToString() }));
        for (var c = 0; c < Clients; c++)
            await Definite(await admin.PostAsJsonAsync("/api/tokenomics/transfers", new { idempotencyKey = $"fund-{c}", debitAccountId = "treasury", creditAccountId = $"user:kc{c}", amount = Funding.ToString() }));

        var applied = new ConcurrentDictionary<string, string>();   // key -> transfer id, as answered
        var refused = new ConcurrentBag<string>();
        var done = 0;
        var killed = new TaskCompletionSource();
        var killer = Task.Run(async () =>
        {
            while (Volatile.Read(ref done) < Clients * OperationsEach / 3) await Task.Delay(10);
            Process.GetProcessById(platform.Pids["tokenomics"]).Kill();
            killed.SetResult();
        });

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var mine = new List<(string Key, object Body)>();
            for (var i = 0; i < OperationsEach; i++, Interlocked.Increment(ref done))
            {
                var kind = random.Next(10);
                if (kind == 0 && mine.Count > 0)
                {
                    // A replay: the same key and payload answers the first result and moves nothing.
                    var (key, body) = mine[random.Next(mine.Count)];
                    var (status, json) = await SendAsync(service, "/api/tokenomics/transfers", body);
                    if (status == HttpStatusCode.OK) Assert.Equal(applied[key], json.GetProperty("transferId").GetString());
                    continue;
                }
                var to = random.Next(Clients - 1);
                var transfer = new
                {
                    idempotencyKey = $"c{c}-{i}", debitAccountId = $"user:kc{c}", creditAccountId = $"user:kc{(to >= c ? to + 1 : to)}",
                    amount = random.Next(1, kind < 2 ? 30_000 : 1_500).ToString(),   // some far more than an account holds
                    pending = kind is 8 or 9, timeoutSeconds = kind is 8 or 9 ? "600" : "0",
                };
                var (answer, result) = await SendAsync(service, "/api/tokenomics/transfers", transfer);
                if (answer != HttpStatusCode.OK)
                {
                    Assert.Equal(HttpStatusCode.Conflict, answer);   // the overdrafts
                    refused.Add(transfer.idempotencyKey);
                    continue;
                }
                var id = result.GetProperty("transferId").GetString()!;
                Assert.True(applied.TryAdd(transfer.idempotencyKey, id) || applied[transfer.idempotencyKey] == id);
                mine.Add((transfer.idempotencyKey, transfer));
                if (transfer.pending)
                    await SendAsync(service, $"/api/tokenomics/transfers/{id}/{(random.Next(2) == 0 ? "post" : "void")}", new { });
                await Task.Delay(random.Next(5, 25));
            }
        })));
        await killer;
        Assert.True(platform.Output.Contains("tokenomics exited with code"), "Tokenomics was killed during the run");

        var stats = JsonDocument.Parse(await admin.GetStringAsync("/api/tokenomics/stats")).RootElement;
        var invariants = stats.GetProperty("invariants");
        Assert.True(invariants.GetProperty("balancesEqualSupply").GetBoolean() && invariants.GetProperty("debitsEqualCredits").GetBoolean(), stats.ToString());
        Assert.Equal(0, invariants.TryGetProperty("negativeAccounts", out var negative) ? negative.GetInt32() : 0);

        // The ledger's history, account by account: each applied key exactly once, no refused key, balances that add up.
        var seen = new Dictionary<string, int>();
        for (var c = 0; c < Clients; c++)
        {
            var account = $"user:kc{c}";
            long credits = 0, debits = 0;
            foreach (var t in await HistoryAsync(admin, account))
            {
                if (t.GetProperty("state").GetString() != "posted") continue;
                var amount = long.Parse(t.GetProperty("amount").GetString()!);
                if (t.GetProperty("creditAccountId").GetString() == account) credits += amount; else debits += amount;
                var key = t.GetProperty("idempotencyKey").GetString()!;
                if (t.GetProperty("debitAccountId").GetString() == account && key.StartsWith('c')) seen[key] = seen.GetValueOrDefault(key) + 1;
            }
            var balance = JsonDocument.Parse(await admin.GetStringAsync($"/api/tokenomics/balance?accountId={account}")).RootElement;
            Assert.Equal(credits - debits, long.Parse(balance.GetProperty("balance").GetString()!));
            Assert.True(long.Parse(balance.GetProperty("balance").GetString()!) >= 0);
        }
        Assert.All(seen, s => Assert.Equal(1, s.Value));
        Assert.DoesNotContain(refused, seen.ContainsKey);
        var postedKeys = applied.Keys.Where(seen.ContainsKey).Count();
        Assert.True(postedKeys > Clients * OperationsEach / 4, $"{postedKeys} transfers posted: the run moved money");
    }

    /// <summary>Sends until the answer is definite: anything but a 5xx or a broken connection (Tokenomics being away), with the same key each time.</summary>
    static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, string path, object body)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            try
            {
                using var response = await http.PostAsJsonAsync(path, body);
                if ((int)response.StatusCode < 500)
                {
                    var text = await response.Content.ReadAsStringAsync();
                    return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{path}: no definite answer in two minutes");
    }

    static async Task Definite(HttpResponseMessage response)
    {
        using (response) Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    static async Task<List<JsonElement>> HistoryAsync(HttpClient http, string account)
    {
        var all = new List<JsonElement>();
        var token = "";
        do
        {
            var page = JsonDocument.Parse(await http.GetStringAsync($"/api/tokenomics/transfers?accountId={account}&pageSize=500&pageToken={Uri.EscapeDataString(token)}")).RootElement;
            if (page.TryGetProperty("transfers", out var transfers)) all.AddRange(transfers.EnumerateArray().Select(t => t.Clone()));
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString() ?? "" : "";
        } while (token != "");
        return all;
    }
}
