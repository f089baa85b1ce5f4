using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;

namespace Platform.NodeAgent.Tests;

/// <summary>The sandbox driver running real processes under bubblewrap (installed by .ci/run).</summary>
public sealed class SandboxDriverTests() : DriverTestBed("sandbox-")
{
    readonly SandboxDriver driver = new(NullLogger<ProcessDriver>.Instance);

    [Fact]
    public async Task A_sandboxed_workload_writes_only_its_folder_and_lives_in_its_own_namespaces()
    {
        var fingerprint = driver.Fingerprint();
        Assert.True(fingerprint.Available, fingerprint.Reason);
        var assignment = new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "boxed", Driver = "sandbox", Command = "sh", MemoryBytes = 256L << 20,
            Args = { "-c", "echo mine > here.txt; touch /etc/sandbox-escape 2>/dev/null && echo escaped; echo \"pid $$ host $(hostname) tmp $(ls /tmp | wc -l)\"" },
        };
        var handle = await StartAsync(driver, assignment);
        var folder = handle.Folder;

        Assert.Equal(0, await driver.WaitAsync(handle, CancellationToken.None));
        Assert.Equal("mine\n", File.ReadAllText(Path.Combine(folder, "here.txt")));
        Assert.False(File.Exists("/etc/sandbox-escape"));
        var output = File.ReadAllText(Path.Combine(folder, "stdout.log"));
        Assert.DoesNotContain("escaped", output);
        // A low pid (its own PID namespace), its own host name, and a private /tmp that shows only the way to its folder.
        Assert.Matches(@"^pid [0-9] host sandbox tmp 1\n$", output);
    }

    [Fact]
    public async Task A_sandboxed_workload_has_no_capabilities_and_no_network_unless_it_asked_for_the_nodes()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        // What a workload would do to reach PostgreSQL or Garnet on the node: connect to a port on the loopback.
        string[] probe = ["-c", $"grep CapEff /proc/self/status; if echo > /dev/tcp/127.0.0.1/{port}; then echo reached; else echo unreachable; fi"];

        var isolated = await StartAsync(driver, new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "isolated", Driver = "sandbox", Command = "bash", Args = { probe }, MemoryBytes = 256L << 20,
        });
        var connected = await StartAsync(driver, new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "connected", Driver = "sandbox", Command = "bash", Args = { probe }, MemoryBytes = 256L << 20,
            Network = "host",
        });

        Assert.Equal(0, await driver.WaitAsync(isolated, CancellationToken.None));
        Assert.Equal(0, await driver.WaitAsync(connected, CancellationToken.None));
        Assert.Matches(@"^CapEff:\s+0000000000000000\nunreachable\n$", File.ReadAllText(Path.Combine(isolated.Folder, "stdout.log")));
        Assert.Matches(@"^CapEff:\s+0000000000000000\nreached\n$", File.ReadAllText(Path.Combine(connected.Folder, "stdout.log")));
    }
}
