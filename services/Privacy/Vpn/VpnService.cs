using Google.Api;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Privacy.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Privacy.Vpn;

/// <summary>The VPN coordinator's API; the rules are <see cref="VpnCoordinator"/>'s.</summary>
public sealed class VpnService(VpnCoordinator coordinator, VpnStore store) : V1.Vpn.VpnBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<VpnPeer> CreatePeer(CreatePeerRequest request, ServerCallContext context)
    {
        var peer = await coordinator.CreateAsync(context.GetHttpContext().User, request, context.CancellationToken);
        return await MessageAsync(peer, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListPeersResponse> ListPeers(ListPeersRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        var peers = await store.PeersAsync(VpnCoordinator.MayManageAll(user) ? null : Callers.Name(user), context.CancellationToken);
        var keys = (await store.ActiveKeysAsync(context.CancellationToken)).ToLookup(k => k.PeerId);
        return new ListPeersResponse { Peers = { peers.Select(p => Message(p, keys[p.PeerId])) } };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<HttpBody> GetPeerConfig(GetPeerConfigRequest request, ServerCallContext context)
    {
        var peerId = RequestValidation.RequireGuid(request.PeerId, "peer_id");
        var config = await coordinator.ConfigAsync(context.GetHttpContext().User, peerId, context.CancellationToken);
        // The private key, when present, is in this response only: nothing between here and the owner keeps it.
        context.GetHttpContext().Response.Headers.CacheControl = "no-store";
        return new HttpBody { ContentType = "text/plain; charset=utf-8", Data = ByteString.CopyFromUtf8(config) };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<VpnPeer> RotatePeer(RotatePeerRequest request, ServerCallContext context)
    {
        var peer = await coordinator.RotateAsync(context.GetHttpContext().User, RequestValidation.RequireGuid(request.PeerId, "peer_id"), request.PublicKey, context.CancellationToken);
        return await MessageAsync(peer, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<VpnPeer> RevokePeer(RevokePeerRequest request, ServerCallContext context)
    {
        var peer = await coordinator.RevokeAsync(context.GetHttpContext().User, RequestValidation.RequireGuid(request.PeerId, "peer_id"), context.CancellationToken);
        return Message(peer, []);
    }

    async Task<VpnPeer> MessageAsync(VpnStore.PeerRow peer, CancellationToken cancellationToken) =>
        Message(peer, (await store.ActiveKeysAsync(cancellationToken)).Where(k => k.PeerId == peer.PeerId));

    static VpnPeer Message(VpnStore.PeerRow peer, IEnumerable<VpnStore.KeyRow> keys) => new()
    {
        PeerId = peer.PeerId.ToString(), Name = peer.Name, Owner = peer.Owner, Endpoint = peer.Endpoint ?? "", AllowedIps = { peer.AllowedIps },
        PresharedKey = peer.PresharedKey, RotationHours = peer.RotationHours, CreatedAtMs = peer.CreatedAt.ToUnixTimeMilliseconds(),
        RevokedAtMs = peer.RevokedAt?.ToUnixTimeMilliseconds() ?? 0,
        Keys = { keys.OrderByDescending(k => k.Generation).Select(k => new VpnKey
        {
            Generation = k.Generation, PublicKey = k.PublicKey, Address = k.Address, CreatedAtMs = k.CreatedAt.ToUnixTimeMilliseconds(),
            RetiresAtMs = k.RetiresAt?.ToUnixTimeMilliseconds() ?? 0, PrivateKeyPending = k.PrivateKeyPending,
        }) },
    };
}
