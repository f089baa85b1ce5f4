using NSec.Cryptography;

namespace Platform.Onion;

/// <summary>A relay's long-term Ed25519 identity: it signs descriptors, and its hash is the relay's ntor ID.</summary>
public sealed class RelayIdentity : IDisposable
{
    readonly Key key;

    RelayIdentity(Key key)
    {
        this.key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        NodeId = Ntor.NodeId(PublicKey);
    }

    public byte[] PublicKey { get; }
    public byte[] NodeId { get; }

    public static RelayIdentity Create() => new(Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>From a 32-byte private seed kept by the caller.</summary>
    public static RelayIdentity Import(ReadOnlySpan<byte> privateKey) =>
        new(Key.Import(SignatureAlgorithm.Ed25519, privateKey, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    public byte[] ExportPrivateKey() => key.Export(KeyBlobFormat.RawPrivateKey);

    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(key, data);

    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key)
        && key is not null && SignatureAlgorithm.Ed25519.Verify(key, data, signature);

    public void Dispose() => key.Dispose();
}
