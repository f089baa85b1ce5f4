namespace Platform.AppHost.Hosting;

/// <summary>
/// The control panel: the Next.js app in <c>web/</c>, prepared by <see cref="NextBuild"/> and run with <c>next start</c>
/// on 127.0.0.1. Healthy once <c>/healthz</c> answers 200; if it exits later, the AppHost stops everything, as for
/// any resource that fails.
/// </summary>
public sealed class NextAppResource(string name, string appDirectory, int port) : Resource(name)
{
    static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    readonly Dictionary<string, Func<string>> environment = [];
    ChildProcess? process;
    volatile bool stopping;

    public int Port => port;
    public string Url => $"http://127.0.0.1:{port}";
    /// <summary>The origins a browser shows the app under: the gateway lets these call it (CORS).</summary>
    public string Origins => $"{Url},http://localhost:{port}";

    public NextAppResource WithEnvironment(string key, Func<string> value)
    {
        environment[key] = value;
        return this;
    }

    public override async Task StartAsync(RunContext run, CancellationToken cancellationToken)
    {
        State = ResourceState.Starting;
        await NextBuild.EnsureAsync(appDirectory, line => run.Console.Line(Name, line), cancellationToken);
        var variables = new Dictionary<string, string> { ["NODE_ENV"] = "production", ["NEXT_TELEMETRY_DISABLED"] = "1" };
        foreach (var (key, value) in environment) variables[key] = value();
        process = ChildProcess.Start(Name, "node", [Path.Combine("node_modules", "next", "dist", "bin", "next"), "start", "-H", "127.0.0.1", "-p", port.ToString()],
            variables, run.Console, appDirectory);
        var deadline = DateTime.UtcNow + run.Options.HealthTimeout;
        while (true)
        {
            if (process.Exited.IsCompleted)
                throw new AppHostException($"{Name} exited with code {process.Exited.Result} before it answered; its last lines:{Environment.NewLine}{process.LastLines()}");
            if (DateTime.UtcNow > deadline)
                throw new AppHostException($"{Name} did not answer within {run.Options.HealthTimeout.TotalSeconds:F0} s ({Url}/healthz)");
            try
            {
                using var response = await Probe.GetAsync($"{Url}/healthz", cancellationToken);
                if (response.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
            await Task.Delay(150, cancellationToken);
        }
        State = ResourceState.Running;
        _ = process.Exited.ContinueWith(exited =>
        {
            if (stopping || run.IsStopping) return;
            State = ResourceState.Failed;
            run.Fail(this, $"{Name} exited with code {exited.Result}");
        }, TaskScheduler.Default);
    }

    public override async Task StopAsync()
    {
        stopping = true;
        if (process is null) return;
        State = ResourceState.Stopping;
        await process.StopAsync(ChildProcess.SIGTERM, TimeSpan.FromSeconds(10));
        State = ResourceState.Stopped;
    }

    public override string Describe() => $"{Url} (the control panel)";
}
