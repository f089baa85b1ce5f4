namespace Platform.AppHost.Hosting;

/// <summary>What every resource may use while the platform runs: options, the console, and and how to report a failure.</summary>
public sealed class RunContext(AppHostOptions options, ResourceConsole console, Action<Resource, string> fail)
{
    volatile bool stopping;

    /// <summary>Set once the AppHost stops: a child exiting from then on is expected, not restarted.</summary>
    public bool IsStopping => stopping;

    public void BeginStopping() => stopping = true;

    public AppHostOptions Options => options;
    public ResourceConsole Console => console;

    /// <summary>Reports a resource that failed after it was healthy (a crash loop): the AppHost stops everything.</summary>
    public void Fail(Resource resource, string reason) => fail(resource, reason);
}
