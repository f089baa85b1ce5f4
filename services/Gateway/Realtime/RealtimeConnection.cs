using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using StackExchange.Redis;

namespace Platform.Gateway.Realtime;

/// <summary>
/// One client of <c>/ws/realtime</c>: what it subscribed to, how far it has been sent in each topic, and a bounded
/// queue of what waits to go out. The hub offers it each event; a client that reads slowly loses the oldest queued
/// messages (and is told how many), never delays anyone else, and is closed when one message waits too long.
/// </summary>
public sealed class RealtimeConnection
{
    const int MaxIncomingMessage = 64 * 1024;
    readonly WebSocket socket;
    readonly ClaimsPrincipal user;
    readonly TopicLog log;
    readonly RealtimeOptions options;
    readonly ILogger logger;
    readonly Lock gate = new();
    readonly Dictionary<string, TopicState> topics = [];
    readonly OutgoingQueue outgoing;

    public RealtimeConnection(WebSocket socket, ClaimsPrincipal user, TopicLog log, RealtimeOptions options, ILogger logger)
    {
        (this.socket, this.user, this.log, this.options, this.logger) = (socket, user, log, options, logger);
        outgoing = new OutgoingQueue(socket, options.QueueLength);
    }

    public string User => Platform.ServiceDefaults.Auth.Callers.Name(user);

    /// <summary>How long the client has left a message unread (the hub closes it past <see cref="RealtimeOptions.SendTimeout"/>).</summary>
    public TimeSpan Stalled => outgoing.Stalled;

    public void Ping() => outgoing.Add(RealtimeMessages.Ping);

    /// <summary>Ends the connection at once: its reader fails, and the hub lets go of it.</summary>
    public void Abort() => socket.Abort();

    /// <summary>How far a topic has been sent; while a resume reads the backlog, live events wait in <see cref="Pending"/>.</summary>
    sealed class TopicState(long last, bool resuming)
    {
        public long Last = last;
        public List<TopicEvent>? Pending = resuming ? [] : null;
    }

    /// <summary>An event of <paramref name="topic"/>; the hub offers a topic's events one at a time, in id order.</summary>
    public void Offer(string topic, TopicEvent item)
    {
        lock (gate)
        {
            if (!topics.TryGetValue(topic, out var state)) return;
            if (state.Pending is not null) state.Pending.Add(item);
            else if (item.Id > state.Last)
            {
                state.Last = item.Id;
                Enqueue(item.Message);
            }
        }
    }

    /// <summary>Redis came back: events may have been missed and ids may start again, so every topic resyncs.</summary>
    public void Resync()
    {
        lock (gate)
            foreach (var (topic, state) in topics)
            {
                state.Last = 0;
                Enqueue(RealtimeMessages.Resync(topic));
            }
    }

    void Enqueue(byte[] message) => outgoing.Add(message);

    public async Task RunAsync(DateTimeOffset? expires, TimeProvider clock, CancellationToken aborted)
    {
        using var expiry = expires is { } at ? new CancellationTokenSource(Max(at - clock.GetUtcNow(), TimeSpan.Zero)) : new CancellationTokenSource();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(aborted, expiry.Token);
        try
        {
            await ReadAsync(reading.Token);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            await CloseAsync(WebSocketCloseStatus.PolicyViolation, "token expired: connect again with a new one and resume");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            outgoing.Close();
        }
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    async Task ReadAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxIncomingMessage];
        while (socket.State == WebSocketState.Open)
        {
            var length = 0;
            ValueWebSocketReceiveResult received;
            do
            {
                if (length == buffer.Length)
                {
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"messages to the hub are at most {MaxIncomingMessage} bytes");
                    return;
                }
                received = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                length += received.Count;
            }
            while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                return;
            }
            if (!WithinMessageRate())
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, $"at most {options.MaxMessagesPerMinute} messages a minute");
                return;
            }
            await HandleAsync(buffer.AsMemory(0, length));
        }
    }

    long windowStart = Environment.TickCount64;
    int messagesInWindow;

    /// <summary>Counts the client's messages per minute (each may cost a Redis read); false once past the limit.</summary>
    bool WithinMessageRate()
    {
        var now = Environment.TickCount64;
        if (now - windowStart >= 60_000) (windowStart, messagesInWindow) = (now, 0);
        return ++messagesInWindow <= options.MaxMessagesPerMinute;
    }

    async Task HandleAsync(ReadOnlyMemory<byte> message)
    {
        ClientMessage request;
        try
        {
            request = ClientMessage.Parse(message.Span);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            Enqueue(RealtimeMessages.Error("bad_message", ex.Message));
            return;
        }
        var accepted = new List<string>();
        foreach (var topic in request.Topics.Distinct())
        {
            if (!RealtimeTopics.RolesFor.ContainsKey(topic))
                Enqueue(RealtimeMessages.Error("unknown_topic", $"no topic '{topic}'; topics are {string.Join(", ", RealtimeTopics.RolesFor.Keys)}", topic));
            else if (request.Type == "subscribe" && !RealtimeTopics.MaySee(user, topic))
                Enqueue(RealtimeMessages.Error("forbidden_topic", $"'{topic}' needs the {RealtimeTopics.RoleNeeded(topic)} role", topic));
            else accepted.Add(topic);
        }
        lock (gate)
        {
            foreach (var topic in accepted)
                if (request.Type == "unsubscribe") topics.Remove(topic);
                else topics[topic] = request.After.TryGetValue(topic, out var after) ? new TopicState(after, resuming: true) : new TopicState(0, resuming: false);
            Enqueue(RealtimeMessages.Topics(request.Type == "subscribe" ? "subscribed" : "unsubscribed", accepted));
        }
        if (request.Type == "subscribe")
            foreach (var topic in accepted.Where(request.After.ContainsKey))
                await ResumeAsync(topic, request.After[topic]);
    }

    /// <summary>Sends what the client missed after <paramref name="after"/>, then what arrived meanwhile, in order.</summary>
    async Task ResumeAsync(string topic, long after)
    {
        Backlog backlog;
        try
        {
            backlog = await log.ReadAfterAsync(topic, after, options.QueueLength);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Resume of {Topic} after {After} could not read the backlog: {Reason}", topic, after, ex.Message);
            backlog = new([], Gap: true);
        }
        lock (gate)
        {
            if (!topics.TryGetValue(topic, out var state) || state.Pending is not { } pending) return;
            if (backlog.Gap)
            {
                state.Last = 0;
                Enqueue(RealtimeMessages.Resync(topic));
            }
            foreach (var item in backlog.Events.Concat(pending).Where(e => e.Id > state.Last))
            {
                state.Last = item.Id;
                Enqueue(item.Message);
            }
            state.Pending = null;
        }
    }

    async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException)
        {
        }
    }
}
