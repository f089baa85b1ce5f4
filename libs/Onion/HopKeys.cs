using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Platform.Onion;

/// <summary>
/// One hop's relay-cell keys, from 128 bytes of ntor key material: forward AEAD key | backward AEAD key | filler key |
/// backward wrap key (32 bytes each, AES-256). Nonces are per-direction cell counters, never sent: TCP keeps cells in
/// order, so both ends count alike, and a replayed, dropped or reordered cell fails authentication.
/// <para>
/// Forward (client to hop): a relay payload is Tag (16) | Body (493). The hop opens the body with AES-256-GCM; the
/// first plaintext byte says deliver (1) or forward (0). To forward, the hop passes on the other 492 bytes — the next
/// hop's own Tag | Body — followed by 17 filler bytes derived from its filler key and counter, which the client
/// predicted when it sealed the cell, so the cell keeps its size and every hop checks a tag over all it receives. A
/// cell changed anywhere on the path fails at the next hop (Tor's tagging attack is caught there, not at the exit).
/// </para>
/// <para>
/// Backward (hop to client): the hop that speaks seals its message with AES-256-GCM; each hop nearer the client adds a
/// length-preserving AES-256-CTR layer with its wrap key. The client peels layers until one hop's tag verifies; a
/// change anywhere fails that tag at the client — the only party that holds the speaking hop's key.
/// </para>
/// </summary>
public sealed class HopKeys : IDisposable
{
    public const int KeyMaterialSize = 128;
    public const int TagSize = 16;
    public const int BodySize = Cells.PayloadSize - TagSize;
    /// <summary>What a forwarding hop consumes (its flag byte and its tag) and appends again as filler.</summary>
    public const int FillerSize = 1 + TagSize;

    readonly AesGcm forward;
    readonly AesGcm backward;
    readonly Aes filler;
    readonly Aes wrap;

    internal ulong ForwardCounter;
    internal ulong BackwardCounter;

    public HopKeys(ReadOnlySpan<byte> keyMaterial)
    {
        if (keyMaterial.Length != KeyMaterialSize) throw new ArgumentException("128 bytes of key material", nameof(keyMaterial));
        forward = new AesGcm(keyMaterial[..32], TagSize);
        backward = new AesGcm(keyMaterial[32..64], TagSize);
        filler = Aes.Create();
        filler.Key = keyMaterial[64..96].ToArray();
        wrap = Aes.Create();
        wrap.Key = keyMaterial[96..128].ToArray();
    }

    public enum Opened { Invalid, Deliver, Forward }

    /// <summary>
    /// A relay opens a forward payload. <paramref name="output"/> (509 bytes) receives the message (Deliver: its first
    /// 492 bytes) or the payload to pass on (Forward). Invalid means the circuit must be destroyed.
    /// </summary>
    public Opened OpenForward(ReadOnlySpan<byte> payload, Span<byte> output)
    {
        var counter = ForwardCounter++;
        Span<byte> nonce = stackalloc byte[12], plain = stackalloc byte[BodySize];
        Nonce(counter, nonce);
        try
        {
            forward.Decrypt(nonce, payload[TagSize..], payload[..TagSize], plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            return Opened.Invalid;
        }
        plain[1..].CopyTo(output);
        if (plain[0] == 1) return Opened.Deliver;
        if (plain[0] != 0) return Opened.Invalid;
        Filler(counter, output[(BodySize - 1)..]);
        return Opened.Forward;
    }

    /// <summary>The hop that speaks seals its message (≤ 493 bytes) into a backward payload; returns the tag (for SENDMEs).</summary>
    public byte[] SealBackward(ReadOnlySpan<byte> message, Span<byte> payload)
    {
        Span<byte> nonce = stackalloc byte[12], plain = stackalloc byte[BodySize];
        plain.Clear();
        message.CopyTo(plain);
        Nonce(BackwardCounter++, nonce);
        backward.Encrypt(nonce, plain, payload[TagSize..], payload[..TagSize]);
        return payload[..TagSize].ToArray();
    }

    /// <summary>A hop relays a backward payload toward the client under its own CTR layer.</summary>
    public void WrapBackward(Span<byte> payload) => Ctr(BackwardCounter++, payload);

    internal void UnwrapBackward(Span<byte> payload, ulong counter) => Ctr(counter, payload);

    internal bool TryOpenBackward(ReadOnlySpan<byte> payload, ulong counter, Span<byte> plain)
    {
        Span<byte> nonce = stackalloc byte[12];
        Nonce(counter, nonce);
        try
        {
            backward.Decrypt(nonce, payload[TagSize..], payload[..TagSize], plain);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    internal void SealForward(ulong counter, ReadOnlySpan<byte> plain, Span<byte> tag, Span<byte> body)
    {
        Span<byte> nonce = stackalloc byte[12];
        Nonce(counter, nonce);
        forward.Encrypt(nonce, plain, body, tag);
    }

    /// <summary>The forward AEAD's keystream for a counter: what GCM XORs onto a body, which the client needs to predict fillers.</summary>
    internal void ForwardKeystream(ulong counter, Span<byte> keystream)
    {
        Span<byte> nonce = stackalloc byte[12], zeros = stackalloc byte[BodySize], tag = stackalloc byte[TagSize];
        zeros.Clear();
        Nonce(counter, nonce);
        forward.Encrypt(nonce, zeros, keystream, tag);
    }

    internal void Filler(ulong counter, Span<byte> destination)
    {
        Span<byte> blocks = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(blocks, counter);
        BinaryPrimitives.WriteUInt64BigEndian(blocks[16..], counter);
        blocks[15] = 0;
        blocks[31] = 1;
        filler.EncryptEcb(blocks, blocks, PaddingMode.None);
        blocks[..FillerSize].CopyTo(destination);
    }

    void Ctr(ulong counter, Span<byte> data)
    {
        Span<byte> stream = stackalloc byte[Cells.PayloadSize + 3];
        for (var block = 0; block < stream.Length / 16; block++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(stream[(block * 16)..], counter);
            BinaryPrimitives.WriteUInt64BigEndian(stream[(block * 16 + 8)..], (ulong)block);
        }
        wrap.EncryptEcb(stream, stream, PaddingMode.None);
        var whole = data.Length / sizeof(ulong);
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data[..(whole * sizeof(ulong))]);
        var keys = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(stream[..(whole * sizeof(ulong))]);
        for (var i = 0; i < words.Length; i++) words[i] ^= keys[i];
        for (var i = whole * sizeof(ulong); i < data.Length; i++) data[i] ^= stream[i];
    }

    static void Nonce(ulong counter, Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], counter);
    }

    public void Dispose()
    {
        forward.Dispose();
        backward.Dispose();
        filler.Dispose();
        wrap.Dispose();
    }
}
