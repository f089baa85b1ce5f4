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
        outgoing = new OutgoingQueue(socket, options.QueueLength, options.QueueBytes);
    }

    public string User => Platform.ServiceDefaults.Auth.Callers.Name(user);

    /// <summary>How long the client has left a message unread (the hub closes it past <see cref="RealtimeOptions.SendTimeout"/>).</summary>
    public TimeSpan Stalled => outgoing.Stalled;

    public void Ping() => Queue(RealtimeMessages.Ping);

    /// <summary>Ends the connection at once: its reader fails, and the hub lets go of it.</summary>
    public void Abort() => socket.Abort();

    /// <summary>The gateway is stopping: the client is told (1001) and reconnects elsewhere, resuming where it was.</summary>
    public Task GoingAwayAsync() => CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "the gateway is stopping: connect again and resume");

    /// <summary>How far a topic has been sent; while a resume reads the backlog, live events wait in <see cref="Pending"/>.</summary>
    sealed class TopicState(long last, bool resuming)
    {
        public long Last = last;
        public List<TopicEvent>? Pending = resuming ? [] : null;
    }

    /// <summary>
    /// An event of <paramref name="topic"/>; the hub offers a topic's events one at a time, in id order. Ids are
    /// consecutive: one that skips ahead means events this replica never got (or a Redis that started again), and the
    /// client is told to resync before it gets the event.
    /// </summary>
    public void Offer(string topic, TopicEvent item)
    {
        var send = false;
        lock (gate)
        {
            if (!topics.TryGetValue(topic, out var state)) return;
            if (state.Pending is { } pending)
            {
                if (pending.Count < options.QueueLength) pending.Add(item);
                else state.Pending = null; // more arrived during the resume than the client could take: resync
                if (state.Pending is null) (state.Last, send) = (item.Id, outgoing.Add(RealtimeMessages.Resync(topic)));
            }
            else if (item.Id > state.Last)
            {
                if (state.Last != 0 && item.Id > state.Last + 1) send |= outgoing.Add(RealtimeMessages.Resync(topic));
                state.Last = item.Id;
                send |= outgoing.Add(item.Message);
            }
        }
        if (send) outgoing.Send();
    }

    /// <summary>Redis came back: events may have been missed, so every topic resyncs (a resume under way is dropped).</summary>
    public void Resync()
    {
        var send = false;
        lock (gate)
            foreach (var (topic, state) in topics)
            {
                (state.Last, state.Pending) = (0, null);
                send |= outgoing.Add(RealtimeMessages.Resync(topic));
            }
        if (send) outgoing.Send();
    }

    /// <summary>Queues a message and starts sending it; never called under <see cref="gate"/>.</summary>
    void Queue(byte[] message)
    {
        if (outgoing.Add(message)) outgoing.Send();
    }

    public async Task RunAsync(DateTimeOffset? expires, TimeProvider clock, CancellationToken aborted)
    {
        // At expiry the hub says so with a close frame (1008), then lets the client go within five seconds.
        await using var expiry = expires is { } at
            ? new Timer(_ => _ = ExpireAsync(), null, Max(at - clock.GetUtcNow(), TimeSpan.Zero), Timeout.InfiniteTimeSpan)
            : null;
        try
        {
            await ReadAsync(aborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            outgoing.Close();
        }
    }

    async Task ExpireAsync()
    {
        await CloseAsync(WebSocketCloseStatus.PolicyViolation, "token expired: connect again with a new one and resume");
        await Task.Delay(TimeSpan.FromSeconds(5));
        socket.Abort();
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
            var (request, error) = Parse(buffer.AsSpan(0, length));
            // A resume costs ten (it reads a backlog from Redis); a message that does not parse, one: it reads nothing.
            if (!WithinMessageRate(1 + 10 * (request?.After.Count ?? 0)))
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, $"at most {options.MaxMessagesPerMinute} messages a minute");
                return;
            }
            if (request is null) Queue(RealtimeMessages.Error("bad_message", error!));
            else await HandleAsync(request);
        }
    }

    long windowStart = Environment.TickCount64;
    int messagesInWindow;

    /// <summary>Counts the client's messages per minute, each at its cost; false once past the limit.</summary>
    bool WithinMessageRate(int cost)
    {
        var now = Environment.TickCount64;
        if (now - windowStart >= 60_000) (windowStart, messagesInWindow) = (now, 0);
        messagesInWindow += cost;
        return messagesInWindow <= options.MaxMessagesPerMinute;
    }

    static (ClientMessage? Request, string? Error) Parse(ReadOnlySpan<byte> message)
    {
        try { return (ClientMessage.Parse(message), null); }
        catch (Exception ex) when (ex is JsonException or FormatException) { return (null, ex.Message); }
    }

    async Task HandleAsync(ClientMessage request)
    {
        var accepted = new List<string>();
        foreach (var topic in request.Topics.Distinct())
        {
            if (!RealtimeTopics.RolesFor.ContainsKey(topic))
                Queue(RealtimeMessages.Error("unknown_topic", $"no topic '{topic}'; topics are {string.Join(", ", RealtimeTopics.RolesFor.Keys)}", topic));
            else if (request.Type == "subscribe" && !RealtimeTopics.MaySee(user, topic))
                Queue(RealtimeMessages.Error("forbidden_topic", $"'{topic}' needs the {RealtimeTopics.RoleNeeded(topic)} role", topic));
            else accepted.Add(topic);
        }
        bool send;
        lock (gate)
        {
            foreach (var topic in accepted)
                if (request.Type == "unsubscribe") topics.Remove(topic);
                else topics[topic] = request.After.TryGetValue(topic, out var after) ? new TopicState(after, resuming: true) : new TopicState(0, resuming: false);
            send = outgoing.Add(RealtimeMessages.Topics(request.Type == "subscribe" ? "subscribed" : "unsubscribed", accepted));
        }
        if (send) outgoing.Send();
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
        var send = false;
        lock (gate)
        {
            // Unsubscribed, resynced or overrun meanwhile: nothing of this resume is sent.
            if (!topics.TryGetValue(topic, out var state) || state.Pending is not { } pending) return;
            if (backlog.Gap)
            {
                state.Last = 0;
                send |= outgoing.Add(RealtimeMessages.Resync(topic));
            }
            foreach (var item in backlog.Events.Concat(pending).Where(e => e.Id > state.Last))
            {
                state.Last = item.Id;
                send |= outgoing.Add(item.Message);
            }
            state.Pending = null;
        }
        if (send) outgoing.Send();
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
