namespace Platform.AppHost.Hosting;

/// <summary>
/// The control panel: the Next.js app in <c>web/</c>, prepared by <see cref="NextBuild"/> and run with <c>next start</c>
/// on 127.0.0.1. Healthy once <c>/healthz</c> answers 200; if it exits later, the AppHost stops everything, as for
/// any resource that fails.
/// </summary>
public sealed class NextAppResource(string name, string appDirectory, int port) : Resource(name)
{
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
        await NextBuild.EnsureAsync(appDirectory, Name, run.Console, cancellationToken);
        var variables = NextBuild.ChildEnvironment(environment.ToDictionary(e => e.Key, e => e.Value()));
        variables["NODE_ENV"] = "production";
        // Ends next start should this AppHost be SIGKILLed, as ParentProcessWatcher does for the services.
        variables["PLATFORM_PARENT_PID"] = Environment.ProcessId.ToString();
        process = ChildProcess.Start(Name, "node",
            ["--require", Path.Combine(".", "server", "parent-watch.cjs"), Path.Combine("node_modules", "next", "dist", "bin", "next"), "start", "-H", "127.0.0.1", "-p", port.ToString()],
            variables, run.Console, appDirectory, inheritEnvironment: false);
        await HealthProbe.WaitAsync(Name, $"{Url}/healthz", process, run.Options.HealthTimeout, cancellationToken);
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
