using System.Net;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Onion;
using Platform.Privacy.Relays;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Privacy.Vpn;

/// <summary>
/// The VPN's rules: who may see and change a peer (its owner; operators and admins any), what a peer may ask for
/// (its name, endpoint, routed prefixes, its own public key), keys made exactly as <c>wg genkey</c> makes them, and
/// each config rendered for the peer that asks.
/// </summary>
public sealed partial class VpnCoordinator(VpnStore store, KeySealer sealer, IOptions<PrivacyOptions> options, TimeProvider clock)
{
    public IPNetwork Pool { get; } = IPNetwork.Parse(options.Value.VpnPool);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex NameFormat();

    public static bool MayManageAll(ClaimsPrincipal user) => user.IsInRole("operator") || user.IsInRole("admin");

    /// <summary>How many active peers a person who is not an operator may hold: the pool is shared by the whole cluster.</summary>
    public const int MaxPeersPerPerson = 16;

    public async Task<VpnStore.PeerRow> CreateAsync(ClaimsPrincipal user, V1.CreatePeerRequest request, CancellationToken cancellationToken)
    {
        var validation = new RequestValidation()
            .Require(NameFormat().IsMatch(request.Name), "name", "1–64 characters of a–z, 0–9 and '-', starting with a letter or digit")
            .Require(request.Endpoint.Length == 0 || ValidEndpoint(request.Endpoint), "endpoint", "must be host:port with a port from 1 to 65535")
            .Require(request.RotationHours is >= 0 and <= 24 * 365, "rotation_hours", "must be from 0 (never) to 8760")
            .Require(request.PublicKey.Length == 0 || ValidKey(request.PublicKey), "public_key", "must be a base64 Curve25519 public key (32 bytes)")
            .Require(request.AllowedIps.Count <= 32, "allowed_ips", "at most 32 prefixes");
        var prefixes = new List<string>();
        for (var i = 0; i < request.AllowedIps.Count; i++)
        {
            var ok = IPNetwork.TryParse(request.AllowedIps[i], out var prefix) && prefix.ToString() == request.AllowedIps[i];
            validation.Require(ok, $"allowed_ips[{i}]", "must be a prefix in canonical form (10.1.0.0/24, say)");
            if (!ok) continue;
            validation.Require(!Overlaps(prefix, Pool), $"allowed_ips[{i}]", $"overlaps the VPN's own pool {Pool}");
            prefixes.Add(prefix.ToString());
        }
        validation.ThrowIfInvalid();
        if (!MayManageAll(user) && (await store.PeersAsync(Callers.Name(user), cancellationToken)).Count(p => p.RevokedAt is null) >= MaxPeersPerPerson)
            throw new NoRoomException("PEER_LIMIT", $"you hold {MaxPeersPerPerson} active peers already; revoke one first");
        var now = clock.GetUtcNow();
        var peer = new VpnStore.PeerRow
        {
            PeerId = Guid.NewGuid(), Name = request.Name, Owner = Callers.Name(user), Endpoint = request.Endpoint.Length == 0 ? null : request.Endpoint,
            AllowedIps = [.. prefixes], PresharedKey = request.PresharedKey, RotationHours = request.RotationHours, CreatedAt = now,
        };
        return await store.CreateAsync(peer, NewKey(request.PublicKey), Pool, SealPreshared, now, cancellationToken);
    }

    public async Task<VpnStore.PeerRow> RotateAsync(ClaimsPrincipal user, Guid peerId, string publicKey, CancellationToken cancellationToken)
    {
        var peer = await ManagedAsync(user, peerId, cancellationToken);
        if (publicKey.Length > 0 && !ValidKey(publicKey)) throw new InvalidFieldException("public_key", "must be a base64 Curve25519 public key (32 bytes)");
        var now = clock.GetUtcNow();
        await store.RotateAsync(peer.PeerId, NewKey(publicKey), Pool, now, now + options.Value.VpnRotationOverlap, cancellationToken);
        return peer;
    }

    /// <summary>A scheduled rotation: a new key made here, the old one kept for the overlap.</summary>
    public async Task RotateScheduledAsync(Guid peerId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await store.RotateAsync(peerId, NewKey(""), Pool, now, now + options.Value.VpnRotationOverlap, cancellationToken);
    }

    public async Task<VpnStore.PeerRow> RevokeAsync(ClaimsPrincipal user, Guid peerId, CancellationToken cancellationToken)
    {
        var peer = await ManagedAsync(user, peerId, cancellationToken);
        await store.RevokeAsync(peer.PeerId, clock.GetUtcNow(), cancellationToken);
        return (await store.PeerAsync(peerId, cancellationToken))!;
    }

    /// <summary>The peer's wg-quick config. Its owner gets the private key made here the first time only; nobody else ever.</summary>
    public async Task<string> ConfigAsync(ClaimsPrincipal user, Guid peerId, CancellationToken cancellationToken)
    {
        var peer = await ManagedAsync(user, peerId, cancellationToken);
        var keys = await store.ActiveKeysAsync(cancellationToken);
        var own = keys.Where(k => k.PeerId == peer.PeerId).OrderByDescending(k => k.Generation).FirstOrDefault()
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, $"peer {peer.Name} has no active key"));
        string? privateKey = null;
        if (own.PrivateKeyPending && peer.Owner == Callers.Name(user) && await store.TakePrivateKeyAsync(peer.PeerId, own.Generation, cancellationToken) is { } sealedKey)
            privateKey = Convert.ToBase64String(sealer.Open(sealedKey, Binding(peer.PeerId, own.Generation)));
        var peers = (await store.PeersAsync(null, cancellationToken)).Where(p => p.RevokedAt is null).ToDictionary(p => p.PeerId);
        var preshared = (await store.PresharedKeysAsync(peer.PeerId, cancellationToken)).ToDictionary(p => p.Other, p => p.Sealed);
        var sections = keys.Where(k => k.PeerId != peer.PeerId && peers.ContainsKey(k.PeerId)).Select(k =>
        {
            var other = peers[k.PeerId];
            var current = k.RetiresAt is null;
            var (low, high) = peer.PeerId.CompareTo(k.PeerId) < 0 ? (peer.PeerId, k.PeerId) : (k.PeerId, peer.PeerId);
            return new WireGuardConfig.PeerSection(other.Name, k.Generation, k.PublicKey, k.Address, current ? other.AllowedIps : [], other.Endpoint,
                preshared.TryGetValue(k.PeerId, out var psk) ? Convert.ToBase64String(sealer.Open(psk, $"psk:{low}:{high}")) : null);
        });
        var port = peer.Endpoint is { } endpoint ? int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture) : (int?)null;
        return WireGuardConfig.Render(new WireGuardConfig.Interface(peer.Name, own.Generation, own.Address, Pool.PrefixLength, privateKey, port, peer.Endpoint is null), sections);
    }

    async Task<VpnStore.PeerRow> ManagedAsync(ClaimsPrincipal user, Guid peerId, CancellationToken cancellationToken)
    {
        var peer = await store.PeerAsync(peerId, cancellationToken);
        // Someone else's peer is as absent as one that does not exist: its id tells a prober nothing.
        if (peer is null || peer.Owner != Callers.Name(user) && !MayManageAll(user))
            throw new RpcException(new Status(StatusCode.NotFound, $"no peer {peerId}"));
        if (peer.RevokedAt is not null) throw new ConflictException("PEER_REVOKED", $"peer {peer.Name} was revoked");
        return peer;
    }

    VpnStore.NewKey NewKey(string publicKey)
    {
        if (publicKey.Length > 0) return new VpnStore.NewKey(publicKey, (_, _) => null);
        var privateKey = Curve25519.NewPrivateKey();
        return new VpnStore.NewKey(Convert.ToBase64String(Curve25519.PublicKey(privateKey)), (peer, generation) => sealer.Seal(privateKey, Binding(peer, generation)));
    }

    byte[] SealPreshared(Guid low, Guid high) => sealer.Seal(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), $"psk:{low}:{high}");

    static string Binding(Guid peer, int generation) => $"key:{peer}:{generation}";

    static bool ValidKey(string text)
    {
        Span<byte> bytes = stackalloc byte[32];
        return Convert.TryFromBase64String(text, bytes, out var written) && written == 32 && text.Length == 44 && bytes.ContainsAnyExcept((byte)0);
    }

    static bool ValidEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint[(colon + 1)..], out var port) || port is < 1 or > 65535) return false;
        var host = endpoint[..colon].Trim('[', ']');
        return IPAddress.TryParse(host, out _) || Uri.CheckHostName(host) == UriHostNameType.Dns;
    }

    static bool Overlaps(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);
}
