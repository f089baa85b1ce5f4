using System.Text.Json;

namespace Platform.Onion.Directory;

/// <summary>Relay flags, assigned by the directory from measurements (Tor's dir-spec rules, scaled to a cluster).</summary>
public static class RelayFlags
{
    public const string Running = "Running";
    public const string Stable = "Stable";
    public const string Fast = "Fast";
    public const string Guard = "Guard";
    public const string Exit = "Exit";
}

/// <summary>A relay as the consensus lists it.</summary>
public sealed record ConsensusRelay
{
    public required string NodeId { get; init; }
    public required string Nickname { get; init; }
    public required string IdentityKey { get; init; }
    public required string OnionKey { get; init; }
    public required string Address { get; init; }
    public required int Port { get; init; }
    public required long BandwidthBytesPerSecond { get; init; }
    public required IReadOnlyList<string> Flags { get; init; }
    public required IReadOnlyList<string> ExitPolicy { get; init; }

    public bool Has(string flag) => Flags.Contains(flag);
}

/// <summary>
/// The network as the directory sees it, valid for a window: fresh until <see cref="FreshUntil"/> (clients fetch a
/// new one after), usable until <see cref="ValidUntil"/> (refused after).
/// </summary>
public sealed record ConsensusDocument
{
    public required DateTimeOffset ValidAfter { get; init; }
    public required DateTimeOffset FreshUntil { get; init; }
    public required DateTimeOffset ValidUntil { get; init; }
    public required IReadOnlyList<ConsensusRelay> Relays { get; init; }

    public SignedDocument Sign(RelayIdentity authority) => SignedDocument.Create(this, authority);

    /// <summary>
    /// What a client does before it uses a consensus: the signature must be the authority's, and now must lie within
    /// [valid-after, valid-until]. Throws <see cref="ConsensusRejectedException"/> saying which check failed.
    /// </summary>
    public static ConsensusDocument Verify(SignedDocument signed, ReadOnlySpan<byte> authorityKey, DateTimeOffset now)
    {
        if (!signed.IsSignedBy(authorityKey))
            throw new ConsensusRejectedException("the consensus is not signed by the directory authority");
        ConsensusDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<ConsensusDocument>(signed.Body, SignedDocument.Json);
        }
        catch (JsonException ex)
        {
            throw new ConsensusRejectedException($"the consensus does not parse: {ex.Message}");
        }
        if (document is null) throw new ConsensusRejectedException("the consensus is empty");
        if (now < document.ValidAfter) throw new ConsensusRejectedException($"the consensus is not valid before {document.ValidAfter:O}");
        if (now > document.ValidUntil) throw new ConsensusRejectedException($"the consensus expired at {document.ValidUntil:O}");
        return document;
    }
}

public sealed class ConsensusRejectedException(string message) : Exception(message);
