using System.Buffers.Binary;

namespace Platform.Onion;

/// <summary>Tor's link-protocol-4 cell commands this network speaks (tor-spec §3).</summary>
public enum CellCommand : byte
{
    Padding = 0,
    Relay = 3,
    Destroy = 4,
    RelayEarly = 9,
    Create2 = 10,
    Created2 = 11,
}

/// <summary>Why a circuit was torn down: the byte a DESTROY cell carries (tor-spec §5.4).</summary>
public enum DestroyReason : byte
{
    None = 0,
    Protocol = 1,
    Internal = 2,
    Requested = 3,
    ResourceLimit = 5,
    ConnectFailed = 6,
    OrConnClosed = 8,
    Finished = 9,
    Destroyed = 11,
}

/// <summary>
/// A fixed-size cell: CircID (4 bytes) | Command (1) | Payload (509) = 514 bytes, link protocol 4's layout. Every cell
/// on the wire has this size, so an observer of a link learns nothing from lengths.
/// </summary>
public static class Cells
{
    public const int Size = 514;
    public const int HeaderSize = 5;
    public const int PayloadSize = Size - HeaderSize;

    /// <summary>The side that opened a link picks circuit IDs with the top bit set; the other side, clear (tor-spec §5.1.1).</summary>
    public const uint InitiatorBit = 0x8000_0000;

    public static uint CircuitId(ReadOnlySpan<byte> cell) => BinaryPrimitives.ReadUInt32BigEndian(cell);

    public static CellCommand Command(ReadOnlySpan<byte> cell) => (CellCommand)cell[4];

    public static Span<byte> Payload(Span<byte> cell) => cell.Slice(HeaderSize, PayloadSize);

    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> cell) => cell.Slice(HeaderSize, PayloadSize);

    public static byte[] New(uint circuitId, CellCommand command)
    {
        var cell = new byte[Size];
        BinaryPrimitives.WriteUInt32BigEndian(cell, circuitId);
        cell[4] = (byte)command;
        return cell;
    }

    /// <summary>CREATE2: HTYPE (2) | HLEN (2) | HDATA.</summary>
    public static byte[] Create2(uint circuitId, ReadOnlySpan<byte> onionskin)
    {
        var cell = New(circuitId, CellCommand.Create2);
        var payload = Payload(cell.AsSpan());
        BinaryPrimitives.WriteUInt16BigEndian(payload, Ntor.HandshakeType);
        BinaryPrimitives.WriteUInt16BigEndian(payload[2..], (ushort)onionskin.Length);
        onionskin.CopyTo(payload[4..]);
        return cell;
    }

    /// <summary>The onionskin of a CREATE2 cell, or null when its handshake is not ntor or its length is wrong.</summary>
    public static byte[]? ReadCreate2(ReadOnlySpan<byte> cell)
    {
        var payload = Payload(cell);
        if (BinaryPrimitives.ReadUInt16BigEndian(payload) != Ntor.HandshakeType) return null;
        return BinaryPrimitives.ReadUInt16BigEndian(payload[2..]) == Ntor.OnionskinSize ? payload.Slice(4, Ntor.OnionskinSize).ToArray() : null;
    }

    /// <summary>CREATED2: HLEN (2) | HDATA.</summary>
    public static byte[] Created2(uint circuitId, ReadOnlySpan<byte> reply)
    {
        var cell = New(circuitId, CellCommand.Created2);
        var payload = Payload(cell.AsSpan());
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)reply.Length);
        reply.CopyTo(payload[2..]);
        return cell;
    }

    public static byte[]? ReadCreated2(ReadOnlySpan<byte> cell)
    {
        var payload = Payload(cell);
        return BinaryPrimitives.ReadUInt16BigEndian(payload) == Ntor.ReplySize ? payload.Slice(2, Ntor.ReplySize).ToArray() : null;
    }

    public static byte[] Destroy(uint circuitId, DestroyReason reason)
    {
        var cell = New(circuitId, CellCommand.Destroy);
        cell[HeaderSize] = (byte)reason;
        return cell;
    }
}
