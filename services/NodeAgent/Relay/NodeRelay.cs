using System.Net;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.NodeAgent.Identity;
using Platform.Onion;
using Platform.Onion.Directory;
using Platform.Onion.Relay;
using Platform.Privacy.V1;
using Platform.ServiceDefaults.Observability;

namespace Platform.NodeAgent.Relay;

/// <summary>
/// The relay role: every poll, asks the directory whether this node runs a relay; starts or stops it to match, rotates
/// its onion key on schedule (saving the keys first), measures its bandwidth and publishes a signed descriptor every
/// publish interval, and at once after a change.
/// </summary>
public sealed class NodeRelay(
    RelayDirectory.RelayDirectoryClient directory, NodeIdentity node, RelayKeyFiles keyFiles, IOptions<RelayOptions> options,
    TimeProvider clock, ILoggerFactory loggers) : BackgroundService
{
    readonly ILogger logger = loggers.CreateLogger<NodeRelay>();
    readonly LogThrottle warnings = new(TimeSpan.FromMinutes(1));
    readonly BandwidthHistory bandwidth = new();
    readonly SemaphoreSlim refreshing = new(1, 1);
    volatile HashSet<(string Endpoint, string Identity)> listed = [];
    long lastAskedTicks;
    RelayIdentity? identity;
    OnionKeyRing? onionKeys;
    IReadOnlyList<string> policy = [];
    DateTimeOffset startedAt, lastPublished;
    bool publishNow;

    /// <summary>The relay while the role is on.</summary>
    public OnionRelay? Running { get; private set; }

    public long MeasuredBandwidth => bandwidth.BytesPerSecond;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var role = await directory.GetRelayRoleAsync(new GetRelayRoleRequest(), cancellationToken: stoppingToken);
                if (role.Enabled) await RunAsync(role, stoppingToken);
                else if (Running is not null) await StopAsync("the directory retired it");
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException && !stoppingToken.IsCancellationRequested)
            {
                if (warnings.Allows()) logger.LogWarning("The relay directory is unreachable: {Reason}", ex.Message);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(options.Value.RolePollInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        if (Running is not null) await StopAsync("the agent is stopping");
    }

    async Task RunAsync(Privacy.V1.RelayRole role, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (Running is not null && !role.ExitPolicy.SequenceEqual(policy)) await StopAsync("its exit policy changed");
        if (Running is null) Start(role, now);
        if (onionKeys!.Rotate(now))
        {
            keyFiles.SaveOnionKeys(onionKeys.All);
            publishNow = true;
            logger.LogInformation("Rotated the relay's onion key");
        }
        await FollowConsensusAsync(now, cancellationToken);
        bandwidth.Observe(Running!.Counters.BytesRelayed, now);
        if (publishNow || now - lastPublished >= TimeSpan.FromSeconds(Math.Max(1, role.PublishIntervalSeconds)))
        {
            var endpoint = Running.Endpoint!;
            var descriptor = new RelayDescriptor
            {
                NodeId = node.NodeId.ToString(), Nickname = node.Name, IdentityKey = Convert.ToBase64String(identity!.PublicKey),
                OnionKey = Convert.ToBase64String(onionKeys.Current.PublicKey), Address = AdvertisedAddress(endpoint).ToString(), Port = endpoint.Port,
                BandwidthBytesPerSecond = bandwidth.BytesPerSecond, ExitPolicy = policy, PublishedAt = now, StartedAt = startedAt,
            };
            var signed = descriptor.Sign(identity);
            await directory.PublishDescriptorAsync(new PublishDescriptorRequest { Body = signed.Body, Signature = signed.Signature }, cancellationToken: cancellationToken);
            (lastPublished, publishNow) = (now, false);
        }
    }

    /// <summary>
    /// The relays this one may extend circuits to: those the latest verified consensus lists, at that address with that
    /// identity. Until there is one, none: a client cannot turn the relay into a proxy to arbitrary hosts.
    /// </summary>
    async Task FollowConsensusAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            var signed = await directory.GetConsensusAsync(new GetConsensusRequest(), cancellationToken: cancellationToken);
            var document = ConsensusDocument.Verify(new SignedDocument(signed.Body, signed.Signature), Convert.FromBase64String(signed.AuthorityKey), now);
            listed = document.Relays.Where(r => IPAddress.TryParse(r.Address, out _))
                .Select(r => (new IPEndPoint(IPAddress.Parse(r.Address), r.Port).ToString(), r.IdentityKey)).ToHashSet();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
        {
            // No consensus yet: nothing to extend to.
        }
        catch (ConsensusRejectedException ex)
        {
            if (warnings.Allows()) logger.LogWarning("The directory's consensus was refused: {Reason}", ex.Message);
        }
        finally
        {
            refreshing.Release();
        }
    }

    /// <summary>
    /// Whether a circuit may be extended to this relay. A target the relay's copy does not list may be in a consensus
    /// newer than it (the client's): the copy is fetched again first, at most once a second.
    /// </summary>
    async Task<bool> ExtendAllowedAsync(IPEndPoint target, byte[] identityKey)
    {
        var wanted = (target.ToString(), Convert.ToBase64String(identityKey));
        if (listed.Contains(wanted)) return true;
        // Asked for by extends at most once a second (the regular poll does not count: it may have run just before
        // the consensus the client holds was signed).
        var now = clock.GetUtcNow();
        var last = Interlocked.Read(ref lastAskedTicks);
        if (now.UtcTicks - last < TimeSpan.TicksPerSecond || Interlocked.CompareExchange(ref lastAskedTicks, now.UtcTicks, last) != last) return false;
        try
        {
            await FollowConsensusAsync(now, CancellationToken.None);
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException)
        {
            return false;
        }
        return listed.Contains(wanted);
    }

    void Start(Privacy.V1.RelayRole role, DateTimeOffset now)
    {
        identity ??= keyFiles.LoadOrCreateIdentity();
        onionKeys = new OnionKeyRing(options.Value.OnionKeyRotation, options.Value.OnionKeyOverlap);
        onionKeys.Load(keyFiles.LoadOnionKeys());
        policy = [.. role.ExitPolicy];
        var relay = new OnionRelay(identity, onionKeys, ExitPolicy.Parse(policy), loggers.CreateLogger<OnionRelay>()) { ExtendAllowed = ExtendAllowedAsync };
        var endpoint = relay.Start(IPEndPoint.Parse(options.Value.Listen));
        (Running, startedAt, publishNow) = (relay, now, true);
        logger.LogInformation("Relay role on: listening for cells on {Endpoint}, advertised as {Address}", endpoint, AdvertisedAddress(endpoint));
    }

    IPAddress AdvertisedAddress(IPEndPoint endpoint) =>
        options.Value.AdvertiseAddress is { Length: > 0 } configured ? IPAddress.Parse(configured)
        : endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any)
            ? throw new InvalidOperationException("The relay listens on a wildcard address: set NodeAgent:Relay:AdvertiseAddress")
            : endpoint.Address;

    async Task StopAsync(string why)
    {
        var relay = Running!;
        Running = null;
        await relay.DisposeAsync();
        logger.LogInformation("Relay role off: {Why}", why);
    }
}
