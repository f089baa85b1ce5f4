using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Cache;

/// <summary>The envelope every platform event travels in on <c>platform.events.&lt;topic&gt;</c>.</summary>
public sealed record PlatformEvent(string Id, string Type, string Source, DateTimeOffset Time, object Data);

/// <summary>
/// Publishes events after the database commit. An event is a notification, never the only copy: a failed publish is
/// logged and dropped, because the database already holds the truth.
/// </summary>
public sealed class EventPublisher(IConnectionMultiplexer cache, IHostEnvironment environment, TimeProvider clock, ILogger<EventPublisher> logger)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly Observability.LogThrottle warnings = new(TimeSpan.FromSeconds(10));
    long droppedSinceWarning;

    public static string Channel(string topic) => $"platform.events.{topic}";

    public async Task PublishAsync(string topic, string type, object data)
    {
        // Protobuf messages keep their proto3 JSON form (camelCase, 64-bit integers as strings), as over REST.
        var payload = data is IMessage message ? JsonDocument.Parse(JsonFormatter.Default.Format(message)).RootElement : data;
        var envelope = new PlatformEvent(Guid.NewGuid().ToString("N"), type, environment.ApplicationName.ToLowerInvariant(), clock.GetUtcNow(), payload);
        if (!cache.IsConnected)
        {
            // Not queued: a request that committed its change would otherwise wait for the command timeout.
            var dropped = Interlocked.Increment(ref droppedSinceWarning);
            if (warnings.Allows())
            {
                Interlocked.Add(ref droppedSinceWarning, -dropped);
                logger.LogWarning("{Count} events not published (the last {Type} on {Topic}): the Redis-protocol server is not connected", dropped, type, topic);
            }
            return;
        }
        try
        {
            await cache.GetSubscriber().PublishAsync(RedisChannel.Literal(Channel(topic)), JsonSerializer.Serialize(envelope, Json));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Event {Type} on {Topic} not published: {Reason}", type, topic, ex.Message);
        }
    }
}
