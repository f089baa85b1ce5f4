using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Platform.Onion;

/// <summary>The bodies of relay messages, in tor-spec's layouts (§5.1.2 EXTEND2, §6.2 BEGIN/CONNECTED, §6.3 END, §7.4 SENDME).</summary>
public static class RelayPayloads
{
    public enum EndReason : byte { Misc = 1, ResolveFailed = 2, ConnectRefused = 3, ExitPolicy = 4, Destroy = 5, Done = 6, Timeout = 7 }

    /// <summary>EXTEND2: NSPEC | (LSTYPE LSLEN LSPEC)* | HTYPE | HLEN | HDATA, with an IP link specifier and the Ed25519 identity.</summary>
    public static byte[] Extend2(IPEndPoint target, ReadOnlySpan<byte> identityKey, ReadOnlySpan<byte> onionskin)
    {
        using var body = new MemoryStream();
        body.WriteByte(2);
        var ip = target.Address.IsIPv4MappedToIPv6 ? target.Address.MapToIPv4() : target.Address;
        var address = ip.GetAddressBytes();
        body.WriteByte(address.Length == 4 ? (byte)0 : (byte)1);
        body.WriteByte((byte)(address.Length + 2));
        body.Write(address);
        body.Write([(byte)(target.Port >> 8), (byte)target.Port]);
        body.WriteByte(3);
        body.WriteByte(32);
        body.Write(identityKey);
        body.Write([0, (byte)Ntor.HandshakeType, 0, (byte)onionskin.Length]);
        body.Write(onionskin);
        return body.ToArray();
    }

    public sealed record Extend2Request(IPEndPoint Target, byte[] IdentityKey, byte[] Onionskin);

    public static Extend2Request? ReadExtend2(ReadOnlySpan<byte> data)
    {
        try
        {
            var count = data[0];
            var at = 1;
            IPEndPoint? target = null;
            byte[]? identity = null;
            for (var i = 0; i < count; i++)
            {
                var (type, length) = (data[at], data[at + 1]);
                var spec = data.Slice(at + 2, length);
                at += 2 + length;
                if (type is 0 && length == 6 || type is 1 && length == 18)
                    target = new IPEndPoint(new IPAddress(spec[..^2]), BinaryPrimitives.ReadUInt16BigEndian(spec[^2..]));
                else if (type == 3 && length == 32)
                    identity = spec.ToArray();
            }
            if (BinaryPrimitives.ReadUInt16BigEndian(data[at..]) != Ntor.HandshakeType) return null;
            var hlen = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
            if (hlen != Ntor.OnionskinSize || target is null || identity is null || target.Port == 0) return null;
            return new Extend2Request(target, identity, data.Slice(at + 4, hlen).ToArray());
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
        catch (IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>EXTENDED2: HLEN | HDATA.</summary>
    public static byte[] Extended2(ReadOnlySpan<byte> reply) => [0, (byte)reply.Length, .. reply];

    public static byte[]? ReadExtended2(ReadOnlySpan<byte> data) =>
        data.Length >= 2 + Ntor.ReplySize && BinaryPrimitives.ReadUInt16BigEndian(data) == Ntor.ReplySize ? data.Slice(2, Ntor.ReplySize).ToArray() : null;

    /// <summary>BEGIN: ADDRPORT NUL FLAGS — <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>.</summary>
    public static byte[] Begin(string host, int port)
    {
        var address = host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
        return [.. Encoding.ASCII.GetBytes(address), 0, 0, 0, 0, 0];
    }

    public static (string Host, int Port)? ReadBegin(ReadOnlySpan<byte> data)
    {
        var nul = data.IndexOf((byte)0);
        if (nul <= 0 || nul > 300) return null;
        var text = Encoding.ASCII.GetString(data[..nul]);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 1 or > 65535) return null;
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (host.Length == 0 || host.Any(c => c <= ' ' || c > '~')) return null;
        return (host, port);
    }

    /// <summary>CONNECTED: the address connected to and a TTL (IPv4: ADDR TTL; IPv6: 0 0 0 0 6 ADDR TTL).</summary>
    public static byte[] Connected(IPAddress address)
    {
        var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var bytes = ip.GetAddressBytes();
        return bytes.Length == 4 ? [.. bytes, 0, 0, 0, 60] : [0, 0, 0, 0, 6, .. bytes, 0, 0, 0, 60];
    }

    public static byte[] End(EndReason reason) => [(byte)reason];

    /// <summary>An authenticated SENDME (version 1): the tag of the cell that completed the window being acknowledged.</summary>
    public static byte[] Sendme(ReadOnlySpan<byte> tag) => [1, 0, (byte)tag.Length, .. tag];

    public static byte[]? ReadSendmeTag(ReadOnlySpan<byte> data) =>
        data.Length >= 3 + HopKeys.TagSize && data[0] == 1 && BinaryPrimitives.ReadUInt16BigEndian(data[1..]) == HopKeys.TagSize
            ? data.Slice(3, HopKeys.TagSize).ToArray() : null;
}
