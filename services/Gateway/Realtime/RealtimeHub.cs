using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Platform.Gateway.Realtime;

/// <summary>
/// Carries the services' events to this gateway's realtime clients: it listens on every topic's channel, gives each
/// event its id in the topic (<see cref="TopicLog"/>, shared by all replicas) and offers it to each connection, one
/// topic's events at a time and in order. A slow connection only fills its own queue; one that leaves a message
/// unread past the send timeout is closed. Pings every connection, and forgets expired events.
/// </summary>
public sealed class RealtimeHub(IConnectionMultiplexer redis, TopicLog log, IOptions<RealtimeOptions> options, ILogger<RealtimeHub> logger)
    : BackgroundService
{
    static readonly TimeSpan TrimEvery = TimeSpan.FromSeconds(30);
    readonly ConcurrentDictionary<RealtimeConnection, byte> connections = new();
    readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RealtimeOptions Options => options.Value;

    /// <summary>Completes once every topic's channel is subscribed (tests wait for it before publishing).</summary>
    public Task Listening => listening.Task;

    readonly ConcurrentDictionary<string, int> perUser = new();

    /// <summary>Counts a connection of <paramref name="user"/> before its upgrade; false when the user has its most already.</summary>
    public bool TryReserve(string user)
    {
        while (true)
        {
            var held = perUser.GetOrAdd(user, 0);
            if (held >= Options.MaxConnectionsPerUser) return false;
            if (perUser.TryUpdate(user, held + 1, held)) return true;
        }
    }

    public void Release(string user)
    {
        if (perUser.AddOrUpdate(user, 0, (_, held) => Math.Max(0, held - 1)) == 0)
            perUser.TryRemove(new KeyValuePair<string, int>(user, 0));
    }

    public void Add(RealtimeConnection connection) => connections[connection] = 0;

    public void Remove(RealtimeConnection connection) => connections.TryRemove(connection, out _);

    public int ConnectionCount => connections.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        var queues = new List<ChannelMessageQueue>();
        try
        {
            foreach (var topic in RealtimeTopics.RolesFor.Keys)
            {
                var queue = await SubscribeWithRetryAsync(topic, stoppingToken);
                queue.OnMessage(message => OnEventAsync(topic, message.Message));
                queues.Add(queue);
            }
            listening.TrySetResult();
            await Task.WhenAll(WatchAsync(stoppingToken), TrimLoopAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
            await Task.WhenAll(connections.Keys.Select(c => c.GoingAwayAsync()));
            foreach (var queue in queues)
            {
                try { await queue.UnsubscribeAsync(); }
                catch (Exception ex) when (ex is RedisException or ObjectDisposedException or OperationCanceledException or TimeoutException) { }
            }
        }
    }

    /// <summary>One clock for every connection: slow readers closed each second, and pings.</summary>
    async Task WatchAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var lastPing = Environment.TickCount64;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var connection in connections.Keys)
                if (connection.Stalled > Options.SendTimeout)
                {
                    logger.LogInformation("Closed a realtime client of {User} that left a message unread for {Stalled}", connection.User, connection.Stalled);
                    connection.Abort();
                }
            if (Environment.TickCount64 - lastPing < Options.PingInterval.TotalMilliseconds) continue;
            lastPing = Environment.TickCount64;
            foreach (var connection in connections.Keys) connection.Ping();
        }
    }

    /// <summary>Forgets expired events; on a clock of its own, so a slow Redis never delays the watchdog.</summary>
    async Task TrimLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TrimEvery);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            foreach (var topic in RealtimeTopics.RolesFor.Keys)
            {
                try { await log.TrimAsync(topic); }
                catch (Exception ex) when (ex is not OperationCanceledException) { logger.LogWarning("Trim of {Topic} skipped: {Reason}", topic, ex.Message); }
            }
    }

    async Task<ChannelMessageQueue> SubscribeWithRetryAsync(string topic, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                return await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal($"{Options.ChannelPrefix}.{topic}"));
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning("Realtime topic {Topic} not subscribed yet: {Reason}", topic, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    async Task OnEventAsync(string topic, RedisValue message)
    {
        try
        {
            var envelope = (string?)message ?? "";
            if (envelope.Length > Options.MaxEventBytes || EnvelopeId(envelope) is not { } eventId)
            {
                Warn($"An event on {topic} was not relayed: larger than {Options.MaxEventBytes} bytes, or without an envelope id");
                return;
            }
            var item = TopicEvent.Of(topic, await log.NumberAsync(topic, eventId, envelope), envelope);
            foreach (var connection in connections.Keys) connection.Offer(topic, item);
        }
        catch (Exception ex)
        {
            // Its clients see the skipped id and resync.
            Warn($"An event on {topic} was not relayed: {ex.Message}");
        }
    }

    /// <summary>The envelope's own id: a JSON object with a short string <c>id</c>, else null.</summary>
    static string? EnvelopeId(string envelope)
    {
        try
        {
            using var document = JsonDocument.Parse(envelope);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id", out var id)
                && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 and <= 64 } text ? text : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    readonly Platform.ServiceDefaults.Observability.LogThrottle warnings = new(TimeSpan.FromSeconds(10));

    /// <summary>At most one warning every ten seconds: a publisher gone wrong must not flood the log.</summary>
    void Warn(string message)
    {
        if (warnings.Allows()) logger.LogWarning("{Message}", message);
    }

    void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription) return;
        foreach (var connection in connections.Keys) connection.Resync();
    }
}
