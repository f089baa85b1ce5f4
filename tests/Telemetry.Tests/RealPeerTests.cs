using System.Net;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>
/// Telemetry against real Prometheus-world programs from Debian's packages (installed by .ci/run):
/// prometheus-node-exporter as a scrape target.
/// </summary>
public sealed class RealPeerTests
{
    [Fact]
    public async Task Node_exporter_is_scraped_and_its_load_average_matches_the_kernel()
    {
        var port = Platform.AppHost.Hosting.Ports.Free();
        using var exporter = StartPeer("prometheus-node-exporter", $"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults", "--collector.loadavg", "--collector.meminfo");
        await using var host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
        {
            ["Telemetry:Scrape:Interval"] = "00:00:00.500",
            ["Telemetry:Scrape:Targets:0:Job"] = "node",
            ["Telemetry:Scrape:Targets:0:Url"] = $"http://127.0.0.1:{port}/metrics",
        });

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var json = JsonDocument.Parse(await host.Http().GetStringAsync("/api/telemetry/metrics/node_memory_MemTotal_bytes/samples"));
            var series = json.RootElement.GetProperty("series").EnumerateArray().ToList();
            if (series.Count > 0)
            {
                var memTotal = series[0].GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble();
                var fromKernel = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
                Assert.Equal(double.Parse(fromKernel) * 1024, memTotal);
                Assert.Equal("node", series[0].GetProperty("labels").GetProperty("job").GetString());
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "no node_exporter samples within 30 s");
            await Task.Delay(200);
        }
        Assert.Contains("node_load1", await host.Http().GetStringAsync("/api/telemetry/metrics/names"));
    }

    internal static RunningPeer StartPeer(string program, params string[] arguments) => new(program, arguments);
}
