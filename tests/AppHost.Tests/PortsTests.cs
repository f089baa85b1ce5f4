using Platform.AppHost.Hosting;

namespace Platform.AppHost.Tests;

/// <summary>How the AppHost chooses loopback ports, and which port it chooses again when one was taken.</summary>
public sealed class PortsTests
{
    [Fact]
    public void No_port_is_handed_out_twice_in_one_run()
    {
        var ports = Enumerable.Range(0, 300).Select(_ => Ports.Free()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    [Fact]
    public void The_port_kestrel_could_not_bind_is_read_from_its_last_words()
    {
        const string kestrel = "gateway    | 07:59:44 fail: Microsoft.Extensions.Hosting.Internal.Host[11] Hosting failed to start System.IO.IOException: " +
            "Failed to bind to address https://127.0.0.1:27734: address already in use.  ---> Microsoft.AspNetCore.Connections.AddressInUseException";
        Assert.Equal(27734, ProjectResource.TakenPort(kestrel));
        Assert.Null(ProjectResource.TakenPort("Unhandled exception. System.InvalidOperationException: something else"));
    }
}
