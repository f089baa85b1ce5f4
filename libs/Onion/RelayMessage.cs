using System.Buffers.Binary;

namespace Platform.Onion;

/// <summary>Relay commands (tor-spec §6.1).</summary>
public enum RelayCommand : byte
{
    Begin = 1,
    Data = 2,
    End = 3,
    Connected = 4,
    Sendme = 5,
    Extend2 = 14,
    Extended2 = 15,
}

/// <summary>
/// A relay message with Tor's relay header: Command (1) | Recognized (2) | StreamID (2) | Digest (4) | Length (2) | Data.
/// Recognized and Digest are written as zeros and ignored: which hop a cell is for, and that nobody changed it, is
/// proven by the per-hop authentication tag (see <see cref="HopKeys"/>), not by a running digest.
/// </summary>
public readonly record struct RelayMessage(RelayCommand Command, ushort StreamId, ReadOnlyMemory<byte> Data)
{
    public const int HeaderSize = 11;

    public int Size => HeaderSize + Data.Length;

    public void Write(Span<byte> destination)
    {
        destination[..HeaderSize].Clear();
        destination[0] = (byte)Command;
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], StreamId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[9..], (ushort)Data.Length);
        Data.Span.CopyTo(destination[HeaderSize..]);
    }

    /// <summary>Null when the length field points past the buffer: a malformed message.</summary>
    public static RelayMessage? Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < HeaderSize) return null;
        var length = BinaryPrimitives.ReadUInt16BigEndian(source[9..]);
        if (length > source.Length - HeaderSize) return null;
        return new RelayMessage((RelayCommand)source[0], BinaryPrimitives.ReadUInt16BigEndian(source[3..]), source.Slice(HeaderSize, length).ToArray());
    }
}
