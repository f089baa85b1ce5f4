using System.Diagnostics;
using Xunit.Abstractions;

namespace Platform.IntegrationTests;

/// <summary>The platform with its control panel, as <c>dotnet run --project AppHost</c> starts it.</summary>
public sealed class ControlPanelFixture : IAsyncLifetime
{
    public PlatformProcess Platform { get; private set; } = null!;

    public async Task InitializeAsync() => Platform = await PlatformProcess.StartAsync(web: true, environment: new Dictionary<string, string>
    {
        // A proposal's vote opens at once, so the browser can vote on the proposal it just made.
        ["Tokenomics__Genesis__voting_delay_seconds"] = "0",
        // New agents wait for an admin, who admits them from the Nodes page (seed 000's discover action).
        ["Compute__Admission__Mode"] = "Manual",
    });

    public async Task DisposeAsync() => await Platform.DisposeAsync();
}

/// <summary>
/// The control panel's own tests, run by the README's test command: Vitest for the data hooks and forms, and the
/// end-to-end scenarios of <c>web/e2e/run.mjs</c> in Debian's Chromium against the real platform — sign in, two nodes
/// discovered and admitted, a workload created, watched to active and migrated, an alert acknowledged, a job changed
/// while pending and run to completion, quotas, a vote, a WireGuard config downloaded, and a viewer who sees no action
/// it cannot take. Screenshots of every page stay in <c>web/e2e/artifacts/</c>.
/// </summary>
public sealed class ControlPanelTests(ControlPanelFixture fixture, ITestOutputHelper output) : IClassFixture<ControlPanelFixture>
{
    static readonly string WebDirectory = FindWeb();

    [Fact]
    public async Task Vitest_covers_the_session_the_realtime_client_and_the_forms() =>
        await RunAsync("node", [Path.Combine("node_modules", "vitest", "vitest.mjs"), "run"], new Dictionary<string, string>());

    [Fact]
    public async Task The_end_to_end_scenarios_pass_in_chromium_against_the_real_platform()
    {
        Assert.NotNull(fixture.Platform.Web);
        await RunAsync("node", [Path.Combine("e2e", "run.mjs")], new Dictionary<string, string>
        {
            ["PLATFORM_WEB"] = fixture.Platform.Web!.ToString().TrimEnd('/'),
            ["PLATFORM_GATEWAY"] = fixture.Platform.Gateway.ToString().TrimEnd('/'),
            ["PLATFORM_ADMIN_PASSWORD"] = fixture.Platform.AdminPassword,
            ["E2E_ARTIFACTS"] = Path.Combine(WebDirectory, "e2e", "artifacts"),
        });
    }

    [Fact]
    public void The_panels_server_holds_none_of_the_platforms_secrets()
    {
        // A workload on this machine can reach the panel's port; what it could coax out of the Node.js process must
        // not include the admin password, the database's or cache's credentials, or any service's client secret.
        var node = fixture.Platform.LiveProcesses().Where(p => p.Command.StartsWith("next-server", StringComparison.Ordinal)).ToList(); // Next.js names its process so
        Assert.NotEmpty(node);
        foreach (var (pid, command) in node)
        {
            var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
            Assert.DoesNotContain(environment, v => v.StartsWith("Platform__AdminPassword=", StringComparison.Ordinal)
                || v.StartsWith("ConnectionStrings__", StringComparison.Ordinal) || v.StartsWith("Auth__ClientSecret=", StringComparison.Ordinal));
            Assert.Contains(environment, v => v.StartsWith("services__gateway__http__0=", StringComparison.Ordinal));
        }
    }

    async Task RunAsync(string program, string[] arguments, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = WebDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(12));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true); // Chromium with it
            throw;
        }
        var text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}\n{fixture.Platform.ErrorLines()}");
    }

    static string FindWeb()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
                return Path.Combine(dir.FullName, "web");
        throw new InvalidOperationException("no checkout above the test binaries");
    }
}
