using System.Text;
using System.Text.Json;

namespace Platform.Onion.Directory;

/// <summary>
/// What a relay says about itself, signed with its Ed25519 identity key: where it listens, its current onion key, the
/// bandwidth it measured, when it started, and its exit policy. The directory checks the signature before it believes
/// a word of it.
/// </summary>
public sealed record RelayDescriptor
{
    public required string NodeId { get; init; }
    public required string Nickname { get; init; }
    public required string IdentityKey { get; init; }
    public required string OnionKey { get; init; }
    public required string Address { get; init; }
    public required int Port { get; init; }
    public required long BandwidthBytesPerSecond { get; init; }
    public required IReadOnlyList<string> ExitPolicy { get; init; }
    public required DateTimeOffset PublishedAt { get; init; }
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The signed form: the exact JSON bytes signed, and the signature over them.</summary>
    public SignedDocument Sign(RelayIdentity identity) => SignedDocument.Create(this, identity);

    /// <summary>Parses and checks a signed descriptor against the identity key it names; null when anything is off.</summary>
    public static RelayDescriptor? Verify(SignedDocument signed)
    {
        RelayDescriptor? descriptor;
        try
        {
            descriptor = JsonSerializer.Deserialize<RelayDescriptor>(signed.Body, SignedDocument.Json);
        }
        catch (JsonException)
        {
            return null;
        }
        if (descriptor is null || !TryBase64(descriptor.IdentityKey, 32, out var identity) || !TryBase64(descriptor.OnionKey, 32, out _))
            return null;
        return signed.IsSignedBy(identity) ? descriptor : null;
    }

    internal static bool TryBase64(string? text, int length, out byte[] bytes)
    {
        bytes = new byte[length];
        return text is not null && Convert.TryFromBase64String(text, bytes, out var written) && written == length;
    }
}

/// <summary>A JSON body and a base64 Ed25519 signature over its UTF-8 bytes.</summary>
public sealed record SignedDocument(string Body, string Signature)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static SignedDocument Create<T>(T value, RelayIdentity signer)
    {
        var body = JsonSerializer.Serialize(value, Json);
        return new SignedDocument(body, Convert.ToBase64String(signer.Sign(Encoding.UTF8.GetBytes(body))));
    }

    public bool IsSignedBy(ReadOnlySpan<byte> publicKey) =>
        RelayDescriptor.TryBase64(Signature, 64, out var signature) && RelayIdentity.Verify(publicKey, Encoding.UTF8.GetBytes(Body), signature);
}
