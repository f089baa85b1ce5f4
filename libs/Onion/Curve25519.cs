using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Platform.Onion;

/// <summary>
/// X25519 (RFC 7748) through libsodium, the library NSec already ships: raw shared secrets, which the ntor handshake
/// hashes together and NSec does not hand out. Private keys are clamped exactly as <c>wg genkey</c> clamps them, so a
/// public key made here equals <c>wg pubkey</c>'s for the same private key.
/// </summary>
public static partial class Curve25519
{
    public const int KeySize = 32;

    static Curve25519()
    {
        // NSec loads and initialises libsodium first; sodium_init is idempotent and thread-safe.
        _ = NSec.Cryptography.KeyAgreementAlgorithm.X25519;
        if (sodium_init() < 0) throw new InvalidOperationException("libsodium did not initialise");
    }

    /// <summary>A new private key: 32 random bytes, clamped.</summary>
    public static byte[] NewPrivateKey()
    {
        var key = RandomNumberGenerator.GetBytes(KeySize);
        Clamp(key);
        return key;
    }

    /// <summary>Clears the low three bits, clears the top bit and sets the second-highest, as <c>wg genkey</c> does.</summary>
    public static void Clamp(Span<byte> key)
    {
        key[0] &= 248;
        key[31] &= 127;
        key[31] |= 64;
    }

    public static byte[] PublicKey(ReadOnlySpan<byte> privateKey)
    {
        Check(privateKey, nameof(privateKey));
        var result = new byte[KeySize];
        if (crypto_scalarmult_curve25519_base(result, privateKey) != 0) throw new CryptographicException("X25519 base multiplication failed");
        return result;
    }

    /// <summary>EXP(peer, private). False when the result is all zeros (a small-order peer key), which ntor must refuse.</summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> destination)
    {
        Check(privateKey, nameof(privateKey));
        Check(peerPublicKey, nameof(peerPublicKey));
        if (destination.Length != KeySize) throw new ArgumentException("32 bytes", nameof(destination));
        return crypto_scalarmult_curve25519(destination, privateKey, peerPublicKey) == 0;
    }

    static void Check(ReadOnlySpan<byte> key, string name)
    {
        if (key.Length != KeySize) throw new ArgumentException($"{name} must be 32 bytes", name);
    }

    [LibraryImport("libsodium")]
    private static partial int sodium_init();

    [LibraryImport("libsodium")]
    private static partial int crypto_scalarmult_curve25519(Span<byte> q, ReadOnlySpan<byte> n, ReadOnlySpan<byte> p);

    [LibraryImport("libsodium")]
    private static partial int crypto_scalarmult_curve25519_base(Span<byte> q, ReadOnlySpan<byte> n);
}
