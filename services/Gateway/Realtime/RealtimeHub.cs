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

    public void Release(string user) => perUser.AddOrUpdate(user, 0, (_, held) => Math.Max(0, held - 1));

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
            // One clock for every connection: slow readers closed each second, pings, and the logs trimmed.
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var (lastPing, lastTrim) = (Environment.TickCount64, Environment.TickCount64);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CloseStalled();
                var now = Environment.TickCount64;
                if (now - lastPing >= Options.PingInterval.TotalMilliseconds)
                {
                    lastPing = now;
                    foreach (var connection in connections.Keys) connection.Ping();
                }
                if (now - lastTrim >= TrimEvery.TotalMilliseconds)
                {
                    lastTrim = now;
                    await TrimAsync();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
            foreach (var queue in queues)
            {
                try { await queue.UnsubscribeAsync(); }
                catch (Exception ex) when (ex is RedisException or ObjectDisposedException or OperationCanceledException or TimeoutException) { }
            }
        }
    }

    void CloseStalled()
    {
        foreach (var connection in connections.Keys)
            if (connection.Stalled > Options.SendTimeout)
            {
                logger.LogInformation("Closed a realtime client of {User} that left a message unread for {Stalled}", connection.User, connection.Stalled);
                connection.Abort();
            }
    }

    async Task TrimAsync()
    {
        foreach (var topic in RealtimeTopics.RolesFor.Keys)
        {
            try { await log.TrimAsync(topic); }
            catch (Exception ex) when (ex is RedisException or TimeoutException) { logger.LogDebug("Trim of {Topic} skipped: {Reason}", topic, ex.Message); }
        }
    }

    async Task<ChannelMessageQueue> SubscribeWithRetryAsync(string topic, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                return await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(RealtimeTopics.Channel(topic)));
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
        var envelope = (string?)message;
        string? eventId;
        try
        {
            using var document = JsonDocument.Parse(envelope ?? "");
            eventId = document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            eventId = null;
        }
        if (string.IsNullOrEmpty(eventId) || eventId.Length > 64)
        {
            logger.LogWarning("An event on {Topic} without a readable envelope id was not relayed", topic);
            return;
        }
        long number;
        try
        {
            number = await log.NumberAsync(topic, eventId, envelope!);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("An event on {Topic} was not relayed: {Reason}", topic, ex.Message);
            return;
        }
        var item = TopicEvent.Of(topic, number, envelope!);
        foreach (var connection in connections.Keys) connection.Offer(topic, item);
    }

    void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription) return;
        foreach (var connection in connections.Keys) connection.Resync();
    }
}
