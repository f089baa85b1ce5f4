namespace Platform.Gateway.Realtime;

/// <summary>Configuration under <c>Gateway:Realtime</c>.</summary>
public sealed class RealtimeOptions
{
    /// <summary>How long each topic's events are kept for clients that reconnect and resume.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>At most this many events are kept per topic, whatever their age.</summary>
    public int MaxEventsPerTopic { get; set; } = 10_000;

    /// <summary>Messages waiting for one client; beyond it the oldest are dropped and the client is told how many.</summary>
    public int QueueLength { get; set; } = 1_024;

    /// <summary>Bytes waiting for one client, at most; beyond it too the oldest are dropped.</summary>
    public long QueueBytes { get; set; } = 4L << 20;

    /// <summary>A service's event larger than this is not relayed (logged): the hub is for notifications, not payloads.</summary>
    public int MaxEventBytes { get; set; } = 64 * 1024;

    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A client that takes longer than this to accept one message has stopped reading: it is closed.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Open sockets one user may hold at once (tabs, devices); one more is refused with 429.</summary>
    public int MaxConnectionsPerUser { get; set; } = 32;

    /// <summary>Messages a client may send the hub per minute; past it the socket is closed (1008).</summary>
    public int MaxMessagesPerMinute { get; set; } = 120;

    /// <summary>The services' events are heard on <c>&lt;prefix&gt;.&lt;topic&gt;</c> (EventPublisher's channels).</summary>
    public string ChannelPrefix { get; set; } = "platform.events";

    /// <summary>Redis keys of the topics' sequences and logs start with this.</summary>
    public string KeyPrefix { get; set; } = "platform:realtime";
}
