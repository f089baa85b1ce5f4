using System.Net;
using System.Net.Sockets;
using Platform.AppHost.Hosting;

namespace Platform.AppHost.Tests;

public sealed class AppHostOptionsTests
{
    [Fact]
    public void Defaults_keep_data_under_the_checkout_and_the_gateway_on_8080()
    {
        var options = AppHostOptions.Parse([]);

        Assert.False(options.Fresh);
        Assert.Equal(8080, options.GatewayPort);
        Assert.Equal(2, options.NodeCount);
        Assert.EndsWith(".platform", options.DataDirectory);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(options.DataDirectory)!, "Platform.sln")));
    }

    [Fact]
    public void Flags_are_read()
    {
        var options = AppHostOptions.Parse(["--fresh", "--data-dir", "/tmp/x", "--gateway-port", "0", "--nodes", "3", "--ready-file", "/tmp/r.json", "--health-timeout", "5"]);

        Assert.Equal(new AppHostOptions(true, "/tmp/x", 0, 3, "/tmp/r.json", TimeSpan.FromSeconds(5)), options);
    }

    [Theory]
    [InlineData("--gateway-port", "70000", "--gateway-port must be a number from 0 to 65535")]
    [InlineData("--nodes", "many", "--nodes must be a number from 0 to 64")]
    [InlineData("--colour", "red", "unknown argument '--colour'")]
    public void Bad_arguments_are_named_in_one_clear_line(string flag, string value, string message) =>
        Assert.StartsWith(message, Assert.Throws<AppHostException>(() => AppHostOptions.Parse([flag, value])).Message);

    [Fact]
    public void A_fixed_port_that_is_taken_is_refused_with_a_way_out()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var gateway = new ProjectResource("gateway", "/nowhere/Gateway.csproj", "/nowhere/Gateway.dll").WithHttpPort(port);

        var error = Assert.Throws<AppHostException>(gateway.AllocatePorts);

        Assert.Contains($"port {port} for gateway is already in use", error.Message);
        Assert.Contains("--gateway-port", error.Message);
    }
}
