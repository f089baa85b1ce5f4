namespace Platform.IntegrationTests;

/// <summary>Stopping the AppHost leaves nothing behind; killing it leaves only a PostgreSQL that the next start stops cleanly.</summary>
public sealed class LifecycleTests
{
    static async Task<IReadOnlyList<(int Pid, string Command)>> WaitUntilGoneAsync(PlatformProcess platform, Func<(int Pid, string Command), bool> which, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var left = platform.LiveProcesses().Where(which).ToList();
            if (left.Count == 0 || DateTime.UtcNow > deadline) return left;
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task SIGTERM_stops_everything_and_leaves_no_process_behind()
    {
        await using var platform = await PlatformProcess.StartAsync();
        Assert.Contains(platform.LiveProcesses(), p => p.Command == "postgres");

        platform.Signal("TERM");
        var exitCode = await platform.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        Assert.Empty(await WaitUntilGoneAsync(platform, _ => true, TimeSpan.FromSeconds(5)));
        Assert.Contains("stopped", platform.Output);
    }

    [Fact]
    public async Task After_SIGKILL_services_exit_on_their_own_and_the_next_start_stops_the_orphaned_PostgreSQL()
    {
        using var data = new TestDataFolder();
        // With the control panel: its Node.js server must go too.
        await using var killed = await PlatformProcess.StartAsync(data.Path, web: true);
        var dataDirectory = killed.DataDirectory;
        Assert.Contains(killed.LiveProcesses(), p => p.Command.StartsWith("next-server", StringComparison.Ordinal));

        killed.Signal("KILL");
        await killed.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var servicesLeft = await WaitUntilGoneAsync(killed, p => p.Command != "postgres", TimeSpan.FromSeconds(15));
        Assert.Empty(servicesLeft);
        Assert.NotEmpty(killed.LiveProcesses());

        await using var next = await PlatformProcess.StartAsync(dataDirectory, fresh: false);

        Assert.Contains("stopping the PostgreSQL", next.Output);
        Assert.Empty(await WaitUntilGoneAsync(killed, _ => true, TimeSpan.FromSeconds(5)));
        using var http = next.CreateHttpClient();
        Assert.Contains("\"Healthy\"", await http.GetStringAsync("/health"));
    }
}
