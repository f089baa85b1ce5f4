using System.Net;
using Microsoft.Extensions.Options;
using Platform.Onion;
using Platform.Onion.Client;
using Platform.Privacy.Relays;
using Platform.ServiceDefaults.Cache;

namespace Platform.Privacy.Entry;

/// <summary>
/// The service's own onion client and its SOCKS5 entry (<c>Privacy:SocksListen</c>, 127.0.0.1:9050 by default, like
/// Tor's SocksPort). Circuit events go to <c>platform.events.circuits</c> with their hops and sizes, never a
/// destination; circuits past their dirtiness are closed once idle.
/// </summary>
public sealed class OnionEntry(ConsensusSource consensus, EventPublisher events, IOptions<PrivacyOptions> options, TimeProvider clock, ILogger<OnionEntry> logger)
    : BackgroundService
{
    Socks5Server? socks;

    public OnionClient Client { get; } = new(consensus.CurrentAsync, clock) { MaxCircuitDirtiness = options.Value.MaxCircuitDirtiness };

    /// <summary>Where the SOCKS5 entry listens, once started; null when it is off.</summary>
    public IPEndPoint? SocksEndpoint { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Client.CircuitBuilt += c => Publish("circuit.built", new { id = c.Id.ToString("x8"), hops = c.Path.Select(h => h.Nickname), buildMs = c.BuildTime.TotalMilliseconds });
        Client.CircuitClosed += (c, reason) => Publish("circuit.closed", new { id = c.Id.ToString("x8"), reason = reason.ToString(), bytesSent = c.BytesSent, bytesReceived = c.BytesReceived });
        Client.CircuitFailed += reason => Publish("circuit.failed", new { reason });

        if (options.Value.SocksListen is { Length: > 0 } listen)
        {
            var endpoint = IPEndPoint.Parse(listen);
            socks = new Socks5Server(Client, logger);
            try
            {
                SocksEndpoint = socks.Start(endpoint);
                logger.LogInformation("SOCKS5 entry listening on {Endpoint}", SocksEndpoint);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                // The rest of the service stands without its entry: the directory and the relays do not need it.
                logger.LogError("The SOCKS5 entry did not start on {Endpoint}: {Reason} (choose another with the AppHost's --socks-port)", endpoint, ex.Message);
            }
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) Client.CloseExpired();
        }
        catch (OperationCanceledException)
        {
        }
    }

    void Publish(string type, object data) => _ = events.PublishAsync("circuits", type, data);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Idempotent: a host stopped twice (a test's dispose after its stop) stops its entry once.
        if (socks is not null) await socks.DisposeAsync();
        await Client.DisposeAsync();
        await base.StopAsync(cancellationToken);
    }
}
