using System.Collections.Concurrent;
using Google.Protobuf.Collections;

namespace Platform.Telemetry.Storage;

/// <summary>
/// Hands out one shared <see cref="SeriesKey"/> per series this process has seen, found without building its
/// canonical text: a fingerprint (order-independent over the labels) selects a candidate, which is then compared
/// field by field, so a fingerprint collision only costs the slow path, never a wrong series.
/// </summary>
public sealed class SeriesInterner
{
    const int Capacity = 1_000_000;
    readonly ConcurrentDictionary<long, SeriesKey> byFingerprint = new();

    public SeriesKey Intern(string name, MapField<string, string> labels)
    {
        var fingerprint = Fingerprint(name, labels);
        if (byFingerprint.TryGetValue(fingerprint, out var known) && known.Matches(name, labels))
            return known;
        var key = SeriesKey.From(name, labels);
        if (byFingerprint.Count < Capacity) byFingerprint.TryAdd(fingerprint, key);
        return key;
    }

    static long Fingerprint(string name, MapField<string, string> labels)
    {
        // Sum and xor of per-label hashes do not depend on the order labels arrived in.
        int sum = 0, xor = 0;
        foreach (var (key, value) in labels)
        {
            var pair = HashCode.Combine(key, value);
            sum += pair;
            xor ^= pair;
        }
        return ((long)HashCode.Combine(name, sum, labels.Count) << 32) | (uint)xor;
    }
}
