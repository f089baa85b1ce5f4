using System.Globalization;
using System.Text.Json;

namespace Platform.Gateway.Realtime;

/// <summary>
/// What a client sends the hub: <c>{"type": "subscribe"|"unsubscribe", "topics": [...], "after": {"topic": "id"}}</c>.
/// Anything else is refused with a reason (a <see cref="FormatException"/> or <see cref="JsonException"/>).
/// </summary>
public sealed record ClientMessage(string Type, IReadOnlyList<string> Topics, IReadOnlyDictionary<string, long> After)
{
    const int MaxTopics = 64;
    const int MaxTopicName = 64;

    public static ClientMessage Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("a message is a JSON object");
        var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        if (type is not ("subscribe" or "unsubscribe")) throw new FormatException("type must be \"subscribe\" or \"unsubscribe\"");
        if (!root.TryGetProperty("topics", out var topicsElement) || topicsElement.ValueKind != JsonValueKind.Array)
            throw new FormatException("topics must be an array of topic names");
        if (topicsElement.GetArrayLength() > MaxTopics) throw new FormatException($"topics: at most {MaxTopics}");
        var topics = topicsElement.EnumerateArray()
            .Select(e => e.ValueKind == JsonValueKind.String && e.GetString()!.Length <= MaxTopicName ? e.GetString()! : throw new FormatException($"topics must be names of at most {MaxTopicName} characters"))
            .ToList();
        var after = new Dictionary<string, long>();
        if (root.TryGetProperty("after", out var afterElement) && afterElement.ValueKind != JsonValueKind.Null)
        {
            if (afterElement.ValueKind != JsonValueKind.Object) throw new FormatException("after must be an object of topic → last event id");
            foreach (var entry in afterElement.EnumerateObject())
            {
                if (entry.Name.Length > MaxTopicName || after.Count >= MaxTopics) throw new FormatException($"after: at most {MaxTopics} topics of at most {MaxTopicName} characters");
                var text = entry.Value.ValueKind switch
                {
                    JsonValueKind.String => entry.Value.GetString(),
                    JsonValueKind.Number => entry.Value.GetRawText(),
                    _ => null,
                };
                if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    throw new FormatException($"after.{entry.Name} must be an event id (a non-negative integer, as a string)");
                after[entry.Name] = id;
            }
        }
        return new(type, topics, after);
    }
}
