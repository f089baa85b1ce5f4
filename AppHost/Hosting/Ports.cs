using System.Net;
using System.Net.Sockets;

namespace Platform.AppHost.Hosting;

/// <summary>
/// Loopback ports for endpoints. A port is chosen at random below the kernel's ephemeral range and checked free: a
/// port the OS hands out for "any free port" may be taken again, before the service binds it, by any outgoing
/// connection on the machine, while nothing takes ports below that range by chance. A port is handed out once per
/// process: the endpoints are chosen before any of them binds, so "free" alone would let two of them draw the same one.
/// </summary>
public static class Ports
{
    const int Span = 12_000;
    static readonly int Ceiling = EphemeralLowerBound();
    static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    public static int Free()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(Math.Max(1024, Ceiling - Span), Ceiling);
            if (IsFree(port) && HandedOut.TryAdd(port, 0)) return port;
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // /proc/sys/net/ipv4/ip_local_port_range holds "lower upper"; Linux defaults to 32768 60999.
    static int EphemeralLowerBound()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(range[0], out var lower) && lower > 2048 ? lower : 32768;
        }
        catch (IOException)
        {
            return 32768;
        }
    }
}
