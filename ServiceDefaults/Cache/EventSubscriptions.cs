using StackExchange.Redis;

namespace Platform.ServiceDefaults.Cache;

/// <summary>Subscribing to platform events on <c>platform.events.&lt;topic&gt;</c>, and letting go of them at shutdown.</summary>
public static class EventSubscriptions
{
    public static Task SubscribeEventsAsync(this IConnectionMultiplexer cache, string topic, Action<RedisChannel, RedisValue> handler) =>
        cache.GetSubscriber().SubscribeAsync(RedisChannel.Literal(EventPublisher.Channel(topic)), handler);

    /// <summary>
    /// Ends the subscription; a connection that is already gone (reset by the server, or disposed or cancelled first at
    /// shutdown) has ended it too, which is not a failure to stop.
    /// </summary>
    public static async Task UnsubscribeEventsAsync(this IConnectionMultiplexer cache, string topic)
    {
        try
        {
            await cache.GetSubscriber().UnsubscribeAsync(RedisChannel.Literal(EventPublisher.Channel(topic)));
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or OperationCanceledException or TimeoutException)
        {
        }
    }
}
