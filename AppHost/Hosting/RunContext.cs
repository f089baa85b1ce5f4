namespace Platform.AppHost.Hosting;

/// <summary>What every resource may use while the platform runs: options, the console, and the run's shared secrets.</summary>
public sealed class RunContext(AppHostOptions options, ResourceConsole console, string signingKey, Action<Resource, string> fail)
{
    volatile bool stopping;

    /// <summary>Set once the AppHost stops: a child exiting from then on is expected, not restarted.</summary>
    public bool IsStopping => stopping;

    public void BeginStopping() => stopping = true;

    public AppHostOptions Options => options;
    public ResourceConsole Console => console;

    /// <summary>The JWT signing key generated for this run and handed to every service.</summary>
    public string SigningKey => signingKey;

    /// <summary>Reports a resource that failed after it was healthy (a crash loop): the AppHost stops everything.</summary>
    public void Fail(Resource resource, string reason) => fail(resource, reason);
}
