namespace Platform.AppHost.Hosting;

/// <summary>Where a resource is in its life.</summary>
public enum ResourceState { Waiting, Starting, Running, External, Failed, Stopping, Stopped }

/// <summary>Something the AppHost starts, waits for, and stops: a server, a cache, a project.</summary>
public abstract class Resource(string name)
{
    public string Name => name;
    public List<Resource> Dependencies { get; } = [];
    public ResourceState State { get; protected set; } = ResourceState.Waiting;

    /// <summary>Starts the resource and returns once it is healthy; throws <see cref="AppHostException"/> if it cannot be.</summary>
    public abstract Task StartAsync(RunContext run, CancellationToken cancellationToken);

    public abstract Task StopAsync();

    /// <summary>Endpoints and notes for the summary table.</summary>
    public abstract string Describe();
}

/// <summary>A resource other resources reach with a connection string (<c>ConnectionStrings__{Name}</c>).</summary>
public interface IResourceWithConnectionString
{
    string Name { get; }
    string ConnectionString { get; }
}

/// <summary>The builder calls that wire resources together, as in Aspire.</summary>
public static class ResourceWiring
{
    public static T WaitFor<T>(this T resource, Resource dependency) where T : Resource
    {
        resource.Dependencies.Add(dependency);
        return resource;
    }

    /// <summary>
    /// What every service shares: the platform's database, logged in as the owner of its own schema only, and the cache,
    /// both up before it starts.
    /// </summary>
    public static ProjectResource WithPlatformData<TCache>(this ProjectResource project, PostgresSchemaLogin database, TCache cache)
        where TCache : Resource, IResourceWithConnectionString =>
        project.WithReference(database).WaitFor(database.Database).WithReference(cache).WaitFor(cache);

    /// <summary>The projects whose <c>/metrics</c> Telemetry scrapes (itself included): their endpoints, by reference.</summary>
    public static ProjectResource WithScrapeTargets(this ProjectResource telemetry, IEnumerable<ProjectResource> targets)
    {
        foreach (var target in targets) telemetry.WithReference(target);
        return telemetry;
    }
}
