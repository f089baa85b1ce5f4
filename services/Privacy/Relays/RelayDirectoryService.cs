using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Onion.Directory;
using Platform.Privacy.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Privacy.Relays;

/// <summary>
/// What agents ask: whether their node runs a relay, and where they publish its descriptor. An agent speaks only for
/// its own node; a descriptor must be signed by the identity key it names, be fresh, be newer than the last one, and
/// name an IP address and a port — the consensus job then checks that a relay holding those keys answers there.
/// </summary>
public sealed class RelayDirectoryService(RelayStore relays, ConsensusStore consensus, DirectoryAuthority authority, IOptions<PrivacyOptions> options, TimeProvider clock)
    : RelayDirectory.RelayDirectoryBase
{
    static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<RelayRole> GetRelayRole(GetRelayRoleRequest request, ServerCallContext context)
    {
        var node = context.Caller();
        var relay = await relays.GetAsync(node, context.CancellationToken);
        var role = new RelayRole { Enabled = relay?.Enabled == true, PublishIntervalSeconds = (int)options.Value.PublishInterval.TotalSeconds };
        if (relay is not null) role.ExitPolicy.AddRange(relay.ExitPolicy);
        return role;
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<PublishDescriptorResponse> PublishDescriptor(PublishDescriptorRequest request, ServerCallContext context)
    {
        var descriptor = RelayDescriptor.Verify(new SignedDocument(request.Body, request.Signature))
            ?? throw new InvalidFieldException("signature", "the descriptor does not parse or is not signed by the identity key it names");
        if (!Callers.ActsFor(context.GetHttpContext().User, descriptor.Nickname))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"this agent does not speak for node {descriptor.Nickname}"));
        var now = clock.GetUtcNow();
        if ((descriptor.PublishedAt - now).Duration() > MaxClockSkew) throw new InvalidFieldException("body.publishedAt", $"must be within {MaxClockSkew.TotalMinutes:0} minutes of the directory's clock");
        if (!IPAddress.TryParse(descriptor.Address, out _)) throw new InvalidFieldException("body.address", "must be an IP address");
        if (descriptor.Port is < 1 or > 65535) throw new InvalidFieldException("body.port", "must be from 1 to 65535");
        if (descriptor.BandwidthBytesPerSecond < 0 || descriptor.BandwidthBytesPerSecond > options.Value.MaxClaimedBandwidth)
            throw new InvalidFieldException("body.bandwidthBytesPerSecond", $"must be from 0 to {options.Value.MaxClaimedBandwidth}");
        if (descriptor.StartedAt > now + MaxClockSkew) throw new InvalidFieldException("body.startedAt", "is in the future");

        var relay = await relays.GetAsync(descriptor.Nickname, context.CancellationToken);
        if (relay is not { Enabled: true }) throw new RpcException(new Status(StatusCode.FailedPrecondition, $"node {descriptor.Nickname} does not have the relay role"));
        if (!descriptor.ExitPolicy.SequenceEqual(relay.ExitPolicy)) throw new InvalidFieldException("body.exitPolicy", "must be the exit policy the directory assigned");
        return new PublishDescriptorResponse { Accepted = await relays.StoreDescriptorAsync(descriptor, new SignedDocument(request.Body, request.Signature), context.CancellationToken) };
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<SignedConsensus> GetConsensus(GetConsensusRequest request, ServerCallContext context)
    {
        return await consensus.LatestSignedAsync(authority.PublicKey, context.CancellationToken);
    }
}
