using System.Net;
using System.Net.Sockets;

namespace Platform.AppHost.Hosting;

/// <summary>Loopback ports: a free one for each endpoint, and a check that a fixed one is still free.</summary>
public static class Ports
{
    public static int Free()
    {
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
}
