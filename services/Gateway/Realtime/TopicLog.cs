using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Platform.Gateway.Realtime;

/// <summary>
/// One event of a topic as the hub sends it on: its id in the topic and the <c>event</c> message carrying the service's
/// envelope, serialized once for every client.
/// </summary>
public sealed record TopicEvent(long Id, byte[] Message)
{
    public static TopicEvent Of(string topic, long id, string envelope) => new(id, RealtimeMessages.Event(topic, id, envelope));
}

/// <summary>What a client resuming after an id can be given: the events it missed, or nothing but the news of a gap.</summary>
public sealed record Backlog(IReadOnlyList<TopicEvent> Events, bool Gap);

/// <summary>
/// Each topic's events in Redis, shared by every gateway replica: a sequence (<c>INCR</c>) numbers them, a sorted set
/// keeps the last <see cref="RealtimeOptions.Retention"/> of them by id (Garnet has no Streams). Every replica hears
/// every event and asks for its id; a script gives the first asker a new one and every later asker the same, so all
/// replicas send each event under one id, in the order Redis delivered them. Ids are consecutive; a sequence starts
/// at the clock's microseconds, so after a Redis that lost everything the ids jump far ahead of any a client holds,
/// and its resume (or the next live event) shows a gap: a resync, never old ids reused for new events.
/// </summary>
public sealed class TopicLog(IConnectionMultiplexer redis, IOptions<RealtimeOptions> options, TimeProvider clock)
{
    const string Number = """
        local seen = redis.call('GET', KEYS[3])
        if seen then return tonumber(seen) end
        if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[4]) end
        local id = redis.call('INCR', KEYS[1])
        redis.call('SET', KEYS[3], id, 'PX', ARGV[3])
        redis.call('ZADD', KEYS[2], id, id .. ':' .. ARGV[1])
        redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
        return id
        """;

    RealtimeOptions Options => options.Value;
    RedisKey Sequence(string topic) => $"{Options.KeyPrefix}:seq:{topic}";
    RedisKey Log(string topic) => $"{Options.KeyPrefix}:log:{topic}";

    /// <summary>The id of the event <paramref name="eventId"/> (the envelope's own id) in its topic, made on first ask.</summary>
    public async Task<long> NumberAsync(string topic, string eventId, string envelope)
    {
        var now = clock.GetUtcNow();
        var result = await redis.GetDatabase().ScriptEvaluateAsync(Number,
            [Sequence(topic), Log(topic), $"{Options.KeyPrefix}:seen:{topic}:{eventId}"],
            [$"{now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}:{envelope}", Options.MaxEventsPerTopic,
                (long)Options.Retention.TotalMilliseconds, now.ToUnixTimeMilliseconds() * 1000]);
        return (long)result;
    }

    /// <summary>
    /// The events after <paramref name="after"/>, in order; a gap when some of them are no longer kept, when there are
    /// more than <paramref name="limit"/> (more than a client's queue holds: reloading by REST is cheaper), or when the
    /// sequence is behind <paramref name="after"/> (Redis restarted empty): the client reloads by REST.
    /// </summary>
    public async Task<Backlog> ReadAfterAsync(string topic, long after, int limit)
    {
        var database = redis.GetDatabase();
        var sequence = (long?)await database.StringGetAsync(Sequence(topic)) ?? 0;
        if (sequence < after) return new([], Gap: true);
        if (sequence == after) return new([], Gap: false);
        if (sequence - after > limit) return new([], Gap: true);
        var members = await database.SortedSetRangeByScoreAsync(Log(topic), after, double.PositiveInfinity, Exclude.Start, take: limit);
        var events = members.Select(m => Parse(topic, m!)).ToList();
        var gap = events.Count == 0 || events[0].Id != after + 1;
        return new(gap ? [] : events, gap);
    }

    /// <summary>Forgets events older than the retention (the count cap is kept as each event is added).</summary>
    public async Task TrimAsync(string topic)
    {
        var database = redis.GetDatabase();
        var cutoff = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)Options.Retention.TotalMilliseconds;
        while (true)
        {
            var oldest = await database.SortedSetRangeByRankAsync(Log(topic), 0, 99);
            var expired = oldest.Select(m => (string)m!).TakeWhile(m => Time(m) < cutoff).Select(Id).ToList();
            if (expired.Count == 0) return;
            await database.SortedSetRemoveRangeByScoreAsync(Log(topic), double.NegativeInfinity, expired[^1]);
            if (expired.Count < oldest.Length) return;
        }
    }

    /// <summary>A member is <c>id:unix-ms:envelope</c>.</summary>
    static TopicEvent Parse(string topic, string member)
    {
        var second = member.IndexOf(':', member.IndexOf(':') + 1);
        return TopicEvent.Of(topic, Id(member), member[(second + 1)..]);
    }

    static long Id(string member) => long.Parse(member.AsSpan(0, member.IndexOf(':')), CultureInfo.InvariantCulture);

    static long Time(string member)
    {
        var first = member.IndexOf(':');
        var second = member.IndexOf(':', first + 1);
        return long.Parse(member.AsSpan(first + 1, second - first - 1), CultureInfo.InvariantCulture);
    }
}
