namespace Platform.Onion;

/// <summary>The client's side of the layered relay crypto over a circuit's hops (see <see cref="HopKeys"/>).</summary>
public static class OnionLayers
{
    const int Body = HopKeys.BodySize;
    const int Fill = HopKeys.FillerSize;

    /// <summary>How many message bytes (relay header included) a forward cell to the hop at index <paramref name="target"/> carries.</summary>
    public static int ForwardCapacity(int target) => Body - 1 - Fill * target;

    /// <summary>How many message bytes a backward cell carries.</summary>
    public const int BackwardCapacity = Body;

    /// <summary>
    /// Seals a message for hop <paramref name="target"/> into a relay payload (509 bytes). Returns the target hop's
    /// tag, which that hop echoes in an authenticated SENDME.
    /// </summary>
    public static byte[] SealForward(IReadOnlyList<HopKeys> hops, int target, ReadOnlySpan<byte> message, Span<byte> payload)
    {
        if (message.Length > ForwardCapacity(target)) throw new ArgumentException($"at most {ForwardCapacity(target)} bytes to hop {target}", nameof(message));
        var counters = new ulong[target + 1];
        for (var j = 0; j <= target; j++) counters[j] = hops[j].ForwardCounter++;

        // What the tail of each hop's body must be once the hops before it have passed it on: their fillers, seen
        // through the keystreams of the hops in between.
        var keystream = new byte[Body];
        var tail = Array.Empty<byte>();
        for (var j = 0; j < target; j++)
        {
            var next = new byte[tail.Length + Fill];
            if (tail.Length > 0)
            {
                hops[j].ForwardKeystream(counters[j], keystream);
                for (var i = 0; i < tail.Length; i++) next[i] = (byte)(tail[i] ^ keystream[Body - tail.Length + i]);
            }
            hops[j].Filler(counters[j], next.AsSpan(tail.Length));
            tail = next;
        }

        Span<byte> plain = stackalloc byte[Body];
        plain.Clear();
        plain[0] = 1;
        message.CopyTo(plain[1..]);
        if (tail.Length > 0)
        {
            hops[target].ForwardKeystream(counters[target], keystream);
            for (var i = 0; i < tail.Length; i++) plain[Body - tail.Length + i] = (byte)(tail[i] ^ keystream[Body - tail.Length + i]);
        }

        Span<byte> tag = stackalloc byte[HopKeys.TagSize], body = stackalloc byte[Body];
        hops[target].SealForward(counters[target], plain, tag, body);
        var targetTag = tag.ToArray();
        for (var j = target - 1; j >= 0; j--)
        {
            plain[0] = 0;
            tag.CopyTo(plain[1..]);
            body[..(Body - Fill)].CopyTo(plain[Fill..]);
            hops[j].SealForward(counters[j], plain, tag, body);
        }
        tag.CopyTo(payload);
        body.CopyTo(payload[HopKeys.TagSize..]);
        return targetTag;
    }

    /// <summary>
    /// Peels a backward payload in place, expecting it from hop <paramref name="origin"/> (the circuit's last hop: no
    /// other hop speaks in this protocol): the hops before it each remove their CTR layer, then the origin's tag must
    /// verify. Its message lands in <paramref name="message"/> (493 bytes) and its tag in <paramref name="tag"/>. False
    /// when the tag does not verify — a cell changed anywhere on the way, or one the origin never sent.
    /// </summary>
    public static bool OpenBackward(IReadOnlyList<HopKeys> hops, int origin, Span<byte> payload, Span<byte> message, Span<byte> tag)
    {
        for (var j = 0; j < origin; j++) hops[j].UnwrapBackward(payload, hops[j].BackwardCounter++);
        if (!hops[origin].TryOpenBackward(payload, hops[origin].BackwardCounter++, message)) return false;
        payload[..HopKeys.TagSize].CopyTo(tag);
        return true;
    }
}
