using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Gateway.Realtime;
using Platform.TestSupport;
using StackExchange.Redis;

namespace Platform.Gateway.Tests;

/// <summary>
/// <c>/ws/realtime</c> over real sockets, with events published on Redis as the services publish them. The tests of
/// this class run one at a time, and no other test here publishes on these topics: what a client receives is theirs.
/// </summary>
public sealed class RealtimeTests
{
    [Fact]
    public async Task A_subscriber_gets_each_event_and_a_reconnect_resumes_with_exactly_what_it_missed_in_order()
    {
        await using var gateway = await StartAsync();
        var token = await AdminTokenAsync(gateway);

        string lastSeen;
        await using (var client = await RealtimeClient.ConnectAsync(gateway, token))
        {
            await client.SubscribeAsync(["nodes"]);
            await PublishAsync(gateway, "nodes", 1, 2);
            var received = await client.EventsAsync(2);
            Assert.Equal([1, 2], received.Select(Number));
            Assert.Equal("nodes", received[0].GetProperty("topic").GetString());
            Assert.Equal("test.event", received[0].GetProperty("event").GetProperty("type").GetString());
            Assert.True(long.Parse(received[1].GetProperty("id").GetString()!) > long.Parse(received[0].GetProperty("id").GetString()!));
            lastSeen = received[1].GetProperty("id").GetString()!;
        }

        await PublishAsync(gateway, "nodes", 3, 4, 5);
        await using var again = await RealtimeClient.ConnectAsync(gateway, token);
        await again.SubscribeAsync(["nodes"], after: new() { ["nodes"] = lastSeen });
        await PublishAsync(gateway, "nodes", 6);

        Assert.Equal([3, 4, 5, 6], (await again.EventsAsync(4)).Select(Number));
    }

    [Fact]
    public async Task A_gap_older_than_what_is_kept_or_an_id_from_another_life_of_the_log_is_a_resync()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Realtime:MaxEventsPerTopic"] = "3" });
        var token = await AdminTokenAsync(gateway);
        await using var client = await RealtimeClient.ConnectAsync(gateway, token);
        await client.SubscribeAsync(["alerts"]);
        await PublishAsync(gateway, "alerts", 1, 2, 3, 4, 5, 6);
        var first = (await client.EventsAsync(6))[0].GetProperty("id").GetString()!;

        await using var late = await RealtimeClient.ConnectAsync(gateway, token);
        await late.SubscribeAsync(["alerts"], after: new() { ["alerts"] = first });
        var resync = await late.NextAsync(m => m.GetProperty("type").GetString() != "subscribed");
        Assert.Equal(("resync", "alerts"), (resync.GetProperty("type").GetString(), resync.GetProperty("topic").GetString()));

        await using var future = await RealtimeClient.ConnectAsync(gateway, token);
        await future.SubscribeAsync(["alerts"], after: new() { ["alerts"] = "999999" });
        Assert.Equal("resync", (await future.NextAsync(m => m.GetProperty("type").GetString() != "subscribed")).GetProperty("type").GetString());
        // After a resync the topic is live again.
        await PublishAsync(gateway, "alerts", 7);
        Assert.Equal([7], (await future.EventsAsync(1)).Select(Number));
    }

    [Fact]
    public async Task After_Redis_loses_the_log_new_ids_jump_ahead_so_live_and_resuming_clients_resync_and_never_get_old_ids_reused()
    {
        await using var gateway = await StartAsync();
        var token = await AdminTokenAsync(gateway);
        await using var live = await RealtimeClient.ConnectAsync(gateway, token);
        await live.SubscribeAsync(["nodes"]);
        await PublishAsync(gateway, "nodes", 1);
        var before = (await live.EventsAsync(1))[0].GetProperty("id").GetString()!;

        // What a Redis that restarted empty has: no sequence, no log.
        var prefix = gateway.Host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RealtimeOptions>>().Value.KeyPrefix;
        await (await Redis.Value).GetDatabase().KeyDeleteAsync([$"{prefix}:seq:nodes", $"{prefix}:log:nodes"]);
        await PublishAsync(gateway, "nodes", 2);

        Assert.Equal("resync", (await live.NextAsync()).GetProperty("type").GetString());
        var after = await live.NextAsync();
        Assert.Equal(2, Number(after));
        Assert.True(long.Parse(after.GetProperty("id").GetString()!) > long.Parse(before) + 1);
        await using var resuming = await RealtimeClient.ConnectAsync(gateway, token);
        await resuming.SubscribeAsync(["nodes"], after: new() { ["nodes"] = before });
        Assert.Equal("resync", (await resuming.NextAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_topic_the_role_may_not_see_is_refused_by_name_and_no_token_no_upgrade()
    {
        await using var gateway = await StartAsync();
        using (var admin = await gateway.AdminAsync())
            (await admin.PostAsJsonAsync("/api/auth/users", new { username = "vera", password = "a long enough password", role = "viewer" })).EnsureSuccessStatusCode();
        var viewer = (await gateway.LoginAsync("vera", "a long enough password")).GetProperty("accessToken").GetString()!;

        await using var client = await RealtimeClient.ConnectAsync(gateway, viewer);
        await client.SendAsync(new { type = "subscribe", topics = new[] { "nodes", "audit", "weather", "jobs" } });
        var answers = new[] { await client.NextAsync(), await client.NextAsync(), await client.NextAsync(), await client.NextAsync() };
        Assert.Contains(answers, a => a.GetProperty("type").GetString() == "error" && a.GetProperty("code").GetString() == "forbidden_topic" && a.GetProperty("topic").GetString() == "audit");
        // Jobs belong to their owners: their events are for operators.
        Assert.Contains(answers, a => a.GetProperty("type").GetString() == "error" && a.GetProperty("code").GetString() == "forbidden_topic" && a.GetProperty("topic").GetString() == "jobs");
        Assert.Contains(answers, a => a.GetProperty("type").GetString() == "error" && a.GetProperty("code").GetString() == "unknown_topic" && a.GetProperty("topic").GetString() == "weather");
        Assert.Contains(answers, a => a.GetProperty("type").GetString() == "subscribed" && a.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).SequenceEqual(["nodes"]));
        await client.SendRawAsync("{\"type\": \"subscribe\", \"topics\": \"nodes\"}");
        Assert.Equal("bad_message", (await client.NextAsync()).GetProperty("code").GetString());

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => RealtimeClient.ConnectAsync(gateway, token: null));
        Assert.Contains("401", refused.Message);
        using var plain = await gateway.As(viewer).GetAsync("/ws/realtime");
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        // A node's agent holds a token too, but the hub is for people: refused before the upgrade.
        var agentRefused = await Assert.ThrowsAsync<WebSocketException>(async () => await RealtimeClient.ConnectAsync(gateway, await gateway.AgentTokenAsync()));
        Assert.Contains("403", agentRefused.Message);
        // The query form, for browsers that cannot set a header on an upgrade.
        await using var byQuery = await RealtimeClient.ConnectAsync(gateway, token: null, query: $"access_token={viewer}");
        await byQuery.SubscribeAsync(["workloads"]);
    }

    [Fact]
    public async Task A_client_that_never_reads_delays_no_one_and_learns_how_many_it_lost()
    {
        // No ping may take an event's place in the queue, and the stalled client must outlast the publishing.
        await using var gateway = await StartAsync(new()
        {
            ["Gateway:Realtime:QueueLength"] = "16", ["Gateway:Realtime:PingInterval"] = "01:00:00", ["Gateway:Realtime:SendTimeout"] = "00:10:00",
        });
        var token = await AdminTokenAsync(gateway);
        await using var stalled = await RealtimeClient.ConnectAsync(gateway, token);
        await stalled.SubscribeAsync(["metrics"]);
        await using var reader = await RealtimeClient.ConnectAsync(gateway, token);
        await reader.SubscribeAsync(["metrics"]);

        // 2,000 events of 8 KiB, far more than the stalled client's socket buffers and queue hold, published 16 at a
        // time: each batch reaches the reader while the stalled client still has not read a byte.
        const int count = 2_000;
        var delivered = new List<int>();
        for (var first = 1; first <= count; first += 16)
        {
            await PublishAsync(gateway, "metrics", [.. Enumerable.Range(first, 16)], padding: 8 * 1024);
            delivered.AddRange((await reader.EventsAsync(16)).Select(Number));
        }
        Assert.Equal(Enumerable.Range(1, count), delivered);

        // Only now does the stalled client read: it was told what it lost, and what it got is in order.
        var messages = await stalled.ReadUntilAsync(read =>
            read.Where(m => m.GetProperty("type").GetString() == "dropped").Sum(m => m.GetProperty("count").GetInt64())
            + read.Count(m => m.GetProperty("type").GetString() == "event") >= count);
        var lost = messages.Where(m => m.GetProperty("type").GetString() == "dropped").Sum(m => m.GetProperty("count").GetInt64());
        var got = messages.Where(m => m.GetProperty("type").GetString() == "event").Select(Number).ToList();
        Assert.True(lost > 0, "no dropped message");
        Assert.Equal(got.Order(), got);
        Assert.Equal(count, got.Count + lost);
    }

    [Fact]
    public async Task A_client_that_stops_reading_for_longer_than_the_send_timeout_is_closed()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Realtime:QueueLength"] = "16", ["Gateway:Realtime:SendTimeout"] = "00:00:01" });
        var token = await AdminTokenAsync(gateway);
        await using var stalled = await RealtimeClient.ConnectAsync(gateway, token);
        await stalled.SubscribeAsync(["workloads"]);

        // Whatever the machine's socket buffers hold, publishing goes on until the client's sends have to wait.
        var hub = gateway.Host.Services.GetRequiredService<RealtimeHub>();
        for (var batch = 0; hub.ConnectionCount > 0 && batch < 100; batch++)
            await PublishAsync(gateway, "workloads", [.. Enumerable.Range(batch * 200 + 1, 200)], padding: 8 * 1024);
        await Eventually.HoldsAsync(() => hub.ConnectionCount == 0, "the stalled client closed by the hub");
    }

    [Fact]
    public async Task One_user_holds_a_bounded_number_of_sockets_and_a_client_flooding_the_hub_is_closed()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Realtime:MaxConnectionsPerUser"] = "2", ["Gateway:Realtime:MaxMessagesPerMinute"] = "3" });
        var token = await AdminTokenAsync(gateway);
        await using var first = await RealtimeClient.ConnectAsync(gateway, token);
        await using var second = await RealtimeClient.ConnectAsync(gateway, token);
        var third = await Assert.ThrowsAsync<WebSocketException>(() => RealtimeClient.ConnectAsync(gateway, token));
        Assert.Contains("429", third.Message);

        for (var i = 0; i < 3; i++) await first.SubscribeAsync(["nodes"]);
        await first.SendAsync(new { type = "subscribe", topics = new[] { "nodes" } });
        await Assert.ThrowsAsync<WebSocketException>(() => first.NextAsync());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, first.CloseStatus);
        // A socket that ends gives its place back.
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await using var again = await RealtimeClient.ConnectAsync(gateway, token);
                return true;
            }
            catch (WebSocketException)
            {
                return false;
            }
        }, "the closed socket's place given back");
    }

    [Fact]
    public async Task A_socket_ends_with_its_token_told_why_so_the_client_reconnects_and_resumes()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Auth:AccessTokenLifetime"] = "00:00:03" });
        await using var client = await RealtimeClient.ConnectAsync(gateway, await AdminTokenAsync(gateway));
        await client.SubscribeAsync(["nodes"]);

        await Assert.ThrowsAsync<WebSocketException>(() => client.NextAsync());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }

    [Fact]
    public async Task Two_replicas_behind_one_Redis_deliver_every_event_once_per_subscriber_under_the_same_ids()
    {
        var shared = new Dictionary<string, string>
        {
            ["Gateway:Realtime:KeyPrefix"] = $"test:{Guid.NewGuid():N}:realtime", ["Gateway:Realtime:ChannelPrefix"] = $"test.{Guid.NewGuid():N}.events",
        };
        await using var first = await StartAsync(shared);
        await using var second = await StartAsync(shared);
        await using var onFirst = await RealtimeClient.ConnectAsync(first, await AdminTokenAsync(first));
        await using var onSecond = await RealtimeClient.ConnectAsync(second, await AdminTokenAsync(second));
        await onFirst.SubscribeAsync(["jobs"]);
        await onSecond.SubscribeAsync(["jobs"]);

        await PublishAsync(first, "jobs", [.. Enumerable.Range(1, 50)]);
        var a = await onFirst.EventsAsync(50);
        var b = await onSecond.EventsAsync(50);

        Assert.Equal(Enumerable.Range(1, 50), a.Select(Number));
        Assert.Equal(a.Select(e => e.GetProperty("id").GetString()), b.Select(e => e.GetProperty("id").GetString()));
        Assert.Equal(50, a.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        // Nothing more: each event came once.
        await PublishAsync(first, "jobs", 51);
        Assert.Equal([51], (await onFirst.EventsAsync(1)).Select(Number));
        Assert.Equal([51], (await onSecond.EventsAsync(1)).Select(Number));
    }

    static int Number(JsonElement message) => message.GetProperty("event").GetProperty("data").GetProperty("n").GetInt32();

    static async Task<GatewayHost> StartAsync(Dictionary<string, string>? configuration = null)
    {
        var gateway = await GatewayHost.StartAsync(configuration, sockets: true);
        await gateway.Host.Services.GetRequiredService<RealtimeHub>().Listening;
        return gateway;
    }

    static async Task<string> AdminTokenAsync(GatewayHost gateway) =>
        (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("accessToken").GetString()!;

    /// <summary>Publishes as a service does (EventPublisher's envelope on <c>platform.events.&lt;topic&gt;</c>), one event per number.</summary>
    static async Task PublishAsync(GatewayHost gateway, string topic, params int[] numbers) => await PublishAsync(gateway, topic, numbers, padding: 0);

    static async Task PublishAsync(GatewayHost gateway, string topic, int[] numbers, int padding)
    {
        var prefix = gateway.Host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RealtimeOptions>>().Value.ChannelPrefix;
        var redis = await Redis.Value;
        var pad = new string('x', padding);
        foreach (var n in numbers)
        {
            var envelope = JsonSerializer.Serialize(new { id = Guid.NewGuid().ToString("N"), type = "test.event", source = "test", time = DateTimeOffset.UtcNow, data = new { n, pad } });
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal($"{prefix}.{topic}"), envelope);
        }
    }

    static readonly Lazy<Task<ConnectionMultiplexer>> Redis = new(async () => await ConnectionMultiplexer.ConnectAsync(await TestInfrastructure.CacheConnectionStringAsync()));
}

/// <summary>A test's WebSocket client of the hub: sends JSON, receives JSON messages, skips pings.</summary>
sealed class RealtimeClient : IAsyncDisposable
{
    readonly ClientWebSocket socket = new();
    readonly CancellationTokenSource limit = new(TimeSpan.FromMinutes(2));

    public static async Task<RealtimeClient> ConnectAsync(GatewayHost gateway, string? token, string query = "", string path = "/ws/realtime")
    {
        var client = new RealtimeClient();
        if (token is not null) client.socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await client.socket.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Port}{path}?{query}"), client.limit.Token);
        return client;
    }

    public WebSocketCloseStatus? CloseStatus => socket.CloseStatus;

    public Task SendAsync(object message) => SendRawAsync(JsonSerializer.Serialize(message));

    public async Task SendRawAsync(string json) =>
        await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, limit.Token);

    /// <summary>Subscribes and waits for the hub's confirmation.</summary>
    public async Task SubscribeAsync(string[] topics, Dictionary<string, string>? after = null)
    {
        await SendAsync(new { type = "subscribe", topics, after });
        var answer = await NextAsync();
        Assert.Equal("subscribed", answer.GetProperty("type").GetString());
    }

    /// <summary>The next message other than a ping (and matching <paramref name="wanted"/>, when given).</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool>? wanted = null)
    {
        while (true)
        {
            var message = await ReceiveAsync(limit.Token) ?? throw new WebSocketException("closed");
            if (message.TryGetProperty("type", out var type) && type.GetString() == "ping" || wanted?.Invoke(message) == false) continue;
            return message;
        }
    }

    /// <summary>The next <paramref name="count"/> events.</summary>
    public async Task<List<JsonElement>> EventsAsync(int count)
    {
        var events = new List<JsonElement>();
        while (events.Count < count) events.Add(await NextAsync(m => m.GetProperty("type").GetString() == "event"));
        return events;
    }

    /// <summary>Every message that arrives until what was read satisfies <paramref name="enough"/>.</summary>
    public async Task<List<JsonElement>> ReadUntilAsync(Func<List<JsonElement>, bool> enough)
    {
        var messages = new List<JsonElement>();
        while (!enough(messages)) messages.Add(await ReceiveAsync(limit.Token) ?? throw new WebSocketException("closed"));
        return messages;
    }

    async Task<JsonElement?> ReceiveAsync(CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(chunk.AsMemory(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            buffer.Write(chunk, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    public ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        limit.Dispose();
        return ValueTask.CompletedTask;
    }
}
