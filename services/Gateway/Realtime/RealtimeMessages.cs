using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Platform.Gateway.Realtime;

/// <summary>
/// What the hub says, as UTF-8 JSON: <c>event</c>, <c>subscribed</c>, <c>unsubscribed</c>, <c>resync</c>,
/// <c>dropped</c>, <c>ping</c> and <c>error</c>. Ids are strings (int64 in JSON, as everywhere in the platform's API).
/// </summary>
public static class RealtimeMessages
{
    public static byte[] Event(string topic, long id, string envelope) => Write(writer =>
    {
        writer.WriteString("type", "event");
        writer.WriteString("topic", topic);
        writer.WriteString("id", id.ToString(CultureInfo.InvariantCulture));
        writer.WritePropertyName("event");
        writer.WriteRawValue(envelope, skipInputValidation: true);
    });

    public static byte[] Topics(string type, IEnumerable<string> topics) => Write(writer =>
    {
        writer.WriteString("type", type);
        writer.WriteStartArray("topics");
        foreach (var topic in topics) writer.WriteStringValue(topic);
        writer.WriteEndArray();
    });

    public static byte[] Resync(string topic) => Write(writer =>
    {
        writer.WriteString("type", "resync");
        writer.WriteString("topic", topic);
    });

    public static byte[] Dropped(long count) => Write(writer =>
    {
        writer.WriteString("type", "dropped");
        writer.WriteNumber("count", count);
    });

    public static readonly byte[] Ping = Encoding.UTF8.GetBytes("""{"type":"ping"}""");

    /// <summary>An error: <paramref name="code"/> is stable (<c>bad_message</c>, <c>unknown_topic</c>, <c>forbidden_topic</c>…).</summary>
    public static byte[] Error(string code, string message, string? topic = null) => Write(writer =>
    {
        writer.WriteString("type", "error");
        writer.WriteString("code", code);
        if (topic is not null) writer.WriteString("topic", topic);
        writer.WriteString("message", message);
    });

    static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
