using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// The token economy through the gateway, on a platform of its own whose reward epochs last 15 s: people stake to a
/// real node, that node runs a job that burns CPU, and the epoch pays for the CPU-seconds its agent measured — the
/// operator's commission and the staker's share — while nobody reads or moves another's stake.
/// </summary>
public sealed class TokenomicsTests : IAsyncLifetime
{
    PlatformProcess platform = null!;

    public async Task InitializeAsync() => platform = await PlatformProcess.StartAsync(nodes: 1, environment: new Dictionary<string, string>
    {
        ["Tokenomics__Rewards__EpochSeconds"] = "15",
        ["Tokenomics__Rewards__SettleSeconds"] = "5",
    });

    public async Task DisposeAsync() => await platform.DisposeAsync();

    HttpClient As(string user) =>
        new(new LoginHandler(platform.Gateway, user, "a long enough password", platform.ErrorLines) { InnerHandler = new HttpClientHandler() }) { BaseAddress = platform.Gateway };

    static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Stakers_are_paid_for_the_cpu_seconds_their_node_measured_and_nobody_touches_another_stake()
    {
        using var admin = platform.CreateHttpClient();
        foreach (var user in new[] { "tina", "tom" })
            await OkAsync(await admin.PostAsJsonAsync("/api/auth/users", new { username = user, password = "a long enough password", role = "viewer" }));
        var node = JsonDocument.Parse(await admin.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes")[0].GetProperty("name").GetString()!;
        await OkAsync(await admin.PostAsJsonAsync("/api/tokenomics/validators", new { node, commissionRate = "0.1" }));
        await OkAsync(await admin.PostAsJsonAsync("/api/tokenomics/mint", new { idempotencyKey = "genesis", amount = "1000000" }));
        await OkAsync(await admin.PostAsJsonAsync("/api/tokenomics/transfers", new { idempotencyKey = "to-tina", debitAccountId = "treasury", creditAccountId = "user:tina", amount = "1000000" }));

        using var tina = As("tina");
        using var tom = As("tom");
        var staked = await OkAsync(await tina.PostAsJsonAsync("/api/tokenomics/stake", new { node, amount = "400000", idempotencyKey = "stake-1" }));
        Assert.Equal(("400000", false), (staked.GetProperty("tokens").GetString(), staked.TryGetProperty("replayed", out var r) && r.GetBoolean()));
        var replay = await OkAsync(await tina.PostAsJsonAsync("/api/tokenomics/stake", new { node, amount = "400000", idempotencyKey = "stake-1" }));
        Assert.True(replay.GetProperty("replayed").GetBoolean());

        using (var nosy = await tom.GetAsync("/api/tokenomics/delegations?delegator=tina")) Assert.Equal(HttpStatusCode.Forbidden, nosy.StatusCode);
        using (var zero = await tom.PostAsJsonAsync("/api/tokenomics/stake", new { node, amount = "0", idempotencyKey = "tom-0" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
            Assert.Contains("amount", await zero.Content.ReadAsStringAsync());
        }
        using (var broke = await tom.PostAsJsonAsync("/api/tokenomics/stake", new { node, amount = "10", idempotencyKey = "tom-1" })) Assert.Equal(HttpStatusCode.Conflict, broke.StatusCode);
        using (var steal = await tom.PostAsJsonAsync("/api/tokenomics/transfers", new { idempotencyKey = "x", debitAccountId = "user:tina", creditAccountId = "user:tom", amount = "1" }))
            Assert.Equal(HttpStatusCode.Forbidden, steal.StatusCode);

        // Work for the node: a job that keeps a core busy for 20 s, measured by the node's agent.
        await OkAsync(await admin.PostAsJsonAsync("/api/scheduler/jobs", new
        {
            name = "burn", sla_tier = "silver", cpu_required = 1, memory_required = 64, command = "timeout", args = new[] { "20", "sh", "-c", "while :; do :; done" },
            estimated_runtime_seconds = 20,
        }));
        JsonElement paid = default;
        await TestSupport.Eventually.HoldsAsync(async () =>
        {
            var epochs = JsonDocument.Parse(await tina.GetStringAsync("/api/tokenomics/epochs?limit=50")).RootElement.GetProperty("epochs");
            paid = epochs.EnumerateArray().SelectMany(e => e.TryGetProperty("nodes", out var n) ? n.EnumerateArray() : Enumerable.Empty<JsonElement>())
                .FirstOrDefault(n => n.GetProperty("node").GetString() == node && n.GetProperty("cpuSeconds").GetDouble() > 0.5);
            return paid.ValueKind == JsonValueKind.Object;
        }, "an epoch that paid for the job's CPU-seconds", TimeSpan.FromSeconds(120));
        var reward = long.Parse(paid.GetProperty("reward").GetString()!);
        var commission = long.Parse(paid.GetProperty("commission").GetString()!);
        // At the genesis rate of 1,000 units a CPU-second (how many the job got depends on what else shares these two cores).
        Assert.True(reward >= (long)Math.Floor(paid.GetProperty("cpuSeconds").GetDouble() * 1000), $"{paid}");
        Assert.Equal(reward / 10, commission);                               // the validator's 10 %
        Assert.Equal(reward - commission, long.Parse(paid.GetProperty("delegatorsShare").GetString()!));

        var pending = JsonDocument.Parse(await tina.GetStringAsync("/api/tokenomics/rewards")).RootElement;
        var owed = long.Parse(pending.GetProperty("total").GetString()!);
        Assert.True(owed >= reward - commission - 1, $"tina, the only staker, is owed {owed} of {reward - commission}");
        var claimed = await OkAsync(await tina.PostAsJsonAsync("/api/tokenomics/rewards/claim", new { }));
        Assert.True(long.Parse(claimed.GetProperty("total").GetString()!) >= owed);
        var balance = JsonDocument.Parse(await tina.GetStringAsync("/api/tokenomics/balance")).RootElement;
        Assert.True(long.Parse(balance.GetProperty("balance").GetString()!) >= 600000 + owed);
        Assert.True(long.Parse(JsonDocument.Parse(await admin.GetStringAsync($"/api/tokenomics/balance?accountId=operator:{node}")).RootElement.GetProperty("balance").GetString()!) >= commission);

        var stats = JsonDocument.Parse(await tom.GetStringAsync("/api/tokenomics/stats")).RootElement;
        var invariants = stats.GetProperty("invariants");
        foreach (var name in new[] { "balancesEqualSupply", "debitsEqualCredits", "stakingPoolMatchesStake", "unbondingPoolMatchesEntries", "rewardsPoolCoversPending" })
            Assert.True(invariants.GetProperty(name).GetBoolean(), $"{name}: {stats}");
        Assert.Equal(1, stats.GetProperty("stakers").GetInt32());
    }
}
