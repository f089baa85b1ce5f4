using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// Telemetry killed with SIGKILL in the middle of a sustained ingest from both NodeAgents; the AppHost restarts it and
/// the agents resend what was never acknowledged. Afterwards every sample an agent collected is stored, once.
/// </summary>
public sealed partial class TelemetryKillTests
{
    [Fact]
    public async Task Samples_collected_equal_samples_stored_after_Telemetry_is_killed_mid_ingest()
    {
        var fast = new Dictionary<string, string> { ["NodeAgent__MetricsInterval"] = "00:00:00.200" };
        using var data = new TestDataFolder();
        int collected;
        await using (var platform = await PlatformProcess.StartAsync(data.Path, environment: fast))
        {
            await Task.Delay(2000);
            try
            {
                Process.GetProcessById(platform.Pids["telemetry"]).Kill();
            }
            catch (ArgumentException)
            {
                // Telemetry is not the process the ready file named: say what the platform said of it.
                var said = string.Join('\n', platform.Output.Split('\n').Where(line => line.StartsWith("telemetry", StringComparison.Ordinal) || line.Contains("apphost", StringComparison.Ordinal)).TakeLast(40));
                Assert.Fail($"Telemetry (pid {platform.Pids["telemetry"]}) was gone before it was killed:\n{said}");
            }
            using var http = platform.CreateHttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!platform.Output.Contains("telemetry exited with code") || !(await http.GetAsync("/health")).IsSuccessStatusCode)
            {
                Assert.True(DateTime.UtcNow < deadline, "Telemetry was not restarted and healthy within 60 s");
                await Task.Delay(250);
            }
            await Task.Delay(2000);

            // Stopping drains: agents stop first and ship what is pending to the Telemetry still running.
            platform.Signal("TERM");
            Assert.Equal(0, await platform.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var reports = AgentReport().Matches(platform.Output).ToList();
            Assert.Equal(2, reports.Count);
            var shipping = string.Join('\n', platform.Output.Split('\n').Where(line => line.Contains("MetricShipper", StringComparison.Ordinal)).TakeLast(40));
            Assert.All(reports, r => Assert.True(r.Groups["pending"].Value == "0", $"{r.Value}\nwhat the shippers said last:\n{shipping}"));
            collected = reports.Sum(r => int.Parse(r.Groups["samples"].Value));
        }

        // The same data, no agents: what did Telemetry commit for them?
        await using var after = await PlatformProcess.StartAsync(data.Path, fresh: false, nodes: 0);
        using var client = after.CreateHttpClient();
        var stored = 0L;
        foreach (var node in new[] { "node-0", "node-1" })
        {
            using var stats = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/agents/{node}/stats"));
            stored += long.Parse(stats.RootElement.GetProperty("samples").GetString()!);
            using var load = JsonDocument.Parse(await client.GetStringAsync($"/api/telemetry/metrics/node_load1/samples?node={node}&sinceMs={DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds()}&limit=10000"));
            var times = load.RootElement.GetProperty("series")[0].GetProperty("points").EnumerateArray().Select(p => p.GetProperty("timestampMs").GetString()).ToList();
            Assert.Equal(times.Count, times.Distinct().Count());
        }
        Assert.Equal(collected, stored);
    }

    [GeneratedRegex(@"node-\d+\s+\|.*Agent node-\d+ stopping: (?<samples>\d+) samples collected this run, (?<pending>\d+) batches still pending")]
    private static partial Regex AgentReport();
}
