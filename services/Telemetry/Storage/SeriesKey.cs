using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Platform.Telemetry.Storage;

/// <summary>A series' identity: its name and label set, and the SHA-256 of both in canonical (sorted) order.</summary>
public sealed record SeriesKey(string Name, SortedDictionary<string, string> Labels)
{
    public static SeriesKey From(string name, IEnumerable<KeyValuePair<string, string>> labels) =>
        new(name, new SortedDictionary<string, string>(labels.ToDictionary(), StringComparer.Ordinal));

    public byte[] Hash { get; } = ComputeHash(Name, Labels);

    public string LabelsJson => JsonSerializer.Serialize(Labels);

    public string HashKey => Convert.ToHexString(Hash);

    static byte[] ComputeHash(string name, SortedDictionary<string, string> labels)
    {
        // Length-prefixed parts: no name or label can be crafted to collide with another split of the same bytes.
        var text = new StringBuilder().Append(name.Length).Append(':').Append(name);
        foreach (var (key, value) in labels)
            text.Append(key.Length).Append(':').Append(key).Append(value.Length).Append(':').Append(value);
        return SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
