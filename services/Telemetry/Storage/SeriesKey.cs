using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Platform.Telemetry.Storage;

/// <summary>
/// A series' identity: its name and label set. <see cref="Identity"/> is the canonical text (labels sorted, every part
/// length-prefixed so no split of the same characters collides) and is cheap enough to build for every sample on the
/// ingest path; the SHA-256 stored as the table's unique key and the JSON of the labels are computed only when a series
/// is new to this process.
/// </summary>
public sealed class SeriesKey
{
    byte[]? hash;
    long id;

    SeriesKey(string name, KeyValuePair<string, string>[] labels, string identity)
    {
        Name = name;
        Labels = labels;
        Identity = identity;
    }

    public string Name { get; }

    /// <summary>The labels in ordinal order of their names.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; }

    public string Identity { get; }

    public byte[] Hash => hash ??= SHA256.HashData(Encoding.UTF8.GetBytes(Identity));

    /// <summary>The stored series' id once a committed transaction has created or found it; 0 before.</summary>
    public long Id
    {
        get => Volatile.Read(ref id);
        set => Volatile.Write(ref id, value);
    }

    /// <summary>True when <paramref name="name"/> and <paramref name="labels"/> are this series, in any label order.</summary>
    public bool Matches(string name, IReadOnlyDictionary<string, string> labels)
    {
        if (name != Name || labels.Count != Labels.Count) return false;
        foreach (var (key, value) in Labels)
            if (!labels.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }

    public string LabelsJson => JsonSerializer.Serialize(Labels.ToDictionary());

    public static SeriesKey From(string name, IEnumerable<KeyValuePair<string, string>> labels)
    {
        var sorted = labels.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var identity = new StringBuilder(name.Length + sorted.Length * 24).Append(name.Length).Append(':').Append(name);
        foreach (var (key, value) in sorted)
            identity.Append(key.Length).Append(':').Append(key).Append(value.Length).Append(':').Append(value);
        return new(name, sorted, identity.ToString());
    }
}
