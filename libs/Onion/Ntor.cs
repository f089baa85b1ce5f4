using System.Security.Cryptography;
using System.Text;

namespace Platform.Onion;

/// <summary>
/// Tor's ntor handshake, exactly as tor-spec §5.1.4 defines it (PROTOID <c>ntor-curve25519-sha256-1</c>), with the
/// key expansion of §5.2.2 (HKDF-SHA256, salt t_key, info m_expand). The client sends NODEID | KEYID(B) | X; the relay
/// answers Y | AUTH. Both ends derive the same key material; the client accepts only if AUTH checks out, which proves
/// the relay holds the onion key b.
/// </summary>
public static class Ntor
{
    public const int NodeIdSize = 20;
    public const int OnionskinSize = NodeIdSize + 32 + 32;
    public const int ReplySize = 32 + 32;
    public const ushort HandshakeType = 0x0002;

    static readonly byte[] ProtoId = Encoding.ASCII.GetBytes("ntor-curve25519-sha256-1");
    static readonly byte[] TMac = Encoding.ASCII.GetBytes("ntor-curve25519-sha256-1:mac");
    static readonly byte[] TKey = Encoding.ASCII.GetBytes("ntor-curve25519-sha256-1:key_extract");
    static readonly byte[] TVerify = Encoding.ASCII.GetBytes("ntor-curve25519-sha256-1:verify");
    static readonly byte[] MExpand = Encoding.ASCII.GetBytes("ntor-curve25519-sha256-1:key_expand");
    static readonly byte[] Server = Encoding.ASCII.GetBytes("Server");

    /// <summary>A relay's 20-byte ntor ID: the first 20 bytes of SHA-256 over its Ed25519 identity key.</summary>
    public static byte[] NodeId(ReadOnlySpan<byte> identityKey) => SHA256.HashData(identityKey)[..NodeIdSize];

    /// <summary>The client's half: keep <paramref name="state"/> until the reply comes.</summary>
    public static byte[] ClientStart(ReadOnlySpan<byte> nodeId, ReadOnlySpan<byte> onionKey, out ClientState state, byte[]? ephemeralPrivate = null)
    {
        var x = ephemeralPrivate ?? Curve25519.NewPrivateKey();
        var bigX = Curve25519.PublicKey(x);
        state = new ClientState(nodeId.ToArray(), onionKey.ToArray(), x, bigX);
        return [.. nodeId, .. onionKey, .. bigX];
    }

    /// <summary>
    /// The relay's half. <paramref name="onionKeys"/> maps public onion keys to private ones (the current key and the
    /// previous one during their overlap). False for an onionskin not for this relay, an unknown key or a bad point.
    /// </summary>
    public static bool TryServer(ReadOnlySpan<byte> onionskin, ReadOnlySpan<byte> nodeId, Func<byte[], byte[]?> onionKeys,
        int keyLength, out byte[] reply, out byte[] keys, byte[]? ephemeralPrivate = null)
    {
        reply = keys = [];
        if (onionskin.Length != OnionskinSize || !onionskin[..NodeIdSize].SequenceEqual(nodeId)) return false;
        var bigB = onionskin[NodeIdSize..(NodeIdSize + 32)].ToArray();
        var bigX = onionskin[(NodeIdSize + 32)..].ToArray();
        if (onionKeys(bigB) is not { } b) return false;
        var y = ephemeralPrivate ?? Curve25519.NewPrivateKey();
        var bigY = Curve25519.PublicKey(y);
        Span<byte> xy = stackalloc byte[32], xb = stackalloc byte[32];
        if (!Curve25519.TrySharedSecret(y, bigX, xy) || !Curve25519.TrySharedSecret(b, bigX, xb)) return false;
        var secretInput = Concat(xy.ToArray(), xb.ToArray(), nodeId.ToArray(), bigB, bigX, bigY, ProtoId);
        var auth = Auth(secretInput, nodeId.ToArray(), bigB, bigX, bigY);
        reply = [.. bigY, .. auth];
        keys = Expand(secretInput, keyLength);
        CryptographicOperations.ZeroMemory(secretInput);
        CryptographicOperations.ZeroMemory(y);
        return true;
    }

    /// <summary>The client's finish: false when AUTH does not match (not the relay we meant) or Y is a bad point.</summary>
    public static bool TryClientFinish(ClientState state, ReadOnlySpan<byte> reply, int keyLength, out byte[] keys)
    {
        keys = [];
        if (reply.Length != ReplySize) return false;
        var bigY = reply[..32].ToArray();
        Span<byte> yx = stackalloc byte[32], bx = stackalloc byte[32];
        if (!Curve25519.TrySharedSecret(state.X, bigY, yx) || !Curve25519.TrySharedSecret(state.X, state.OnionKey, bx)) return false;
        var secretInput = Concat(yx.ToArray(), bx.ToArray(), state.NodeId, state.OnionKey, state.PublicX, bigY, ProtoId);
        var auth = Auth(secretInput, state.NodeId, state.OnionKey, state.PublicX, bigY);
        var ok = CryptographicOperations.FixedTimeEquals(auth, reply[32..]);
        if (ok) keys = Expand(secretInput, keyLength);
        CryptographicOperations.ZeroMemory(secretInput);
        return ok;
    }

    static byte[] Auth(byte[] secretInput, byte[] id, byte[] b, byte[] x, byte[] y)
    {
        var verify = HMACSHA256.HashData(TVerify, secretInput);
        return HMACSHA256.HashData(TMac, Concat(verify, id, b, y, x, ProtoId, Server));
    }

    /// <summary>KEY_SEED = H(secret_input, t_key); K = HKDF-Expand(KEY_SEED, m_expand) — tor-spec's KDF-RFC5869.</summary>
    static byte[] Expand(byte[] secretInput, int length) =>
        HKDF.Expand(HashAlgorithmName.SHA256, HMACSHA256.HashData(TKey, secretInput), length, MExpand);

    static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }

    public sealed record ClientState(byte[] NodeId, byte[] OnionKey, byte[] X, byte[] PublicX);
}
