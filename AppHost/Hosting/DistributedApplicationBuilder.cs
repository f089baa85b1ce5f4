using Platform.ServiceDefaults.Auth;

namespace Platform.AppHost.Hosting;

/// <summary>Declares the platform's resources the way Aspire's builder does; <see cref="Build"/> freezes the model.</summary>
public sealed class DistributedApplicationBuilder(AppHostOptions options)
{
    static readonly TimeSpan AgentTokenLifetime = TimeSpan.FromDays(30);
    readonly List<Resource> resources = [];
    // A key given in the environment survives restarts (tokens stay valid); otherwise each run makes its own.
    readonly string signingKey = Environment.GetEnvironmentVariable("Auth__SigningKey") is { Length: > 0 } configured ? configured : PlatformTokens.NewSigningKey();

    public AppHostOptions Options => options;

    public PostgresServerBuilder AddPostgres(string name) =>
        new(this, Add(new PostgresServerResource(name, external: ConfiguredConnectionString("platformdb") is not null)));

    public GarnetResource AddGarnet(string name) => Add(new GarnetResource(name, ConfiguredConnectionString(name)));

    public ProjectResource AddProject<TProject>(string name) where TProject : Projects.IProjectMetadata =>
        Add(new ProjectResource(name, TProject.ProjectPath, TProject.TargetPath));

    /// <summary>
    /// <paramref name="count"/> NodeAgents named <c>{prefix}-0</c>…, each with its own state folder and agent token,
    /// stopping their workloads when they stop.
    /// </summary>
    public NodeAgentGroup AddNodeAgents<TProject>(string prefix, int count) where TProject : Projects.IProjectMetadata
    {
        var key = Convert.FromBase64String(signingKey);
        var agents = Enumerable.Range(0, count).Select(i =>
        {
            var name = $"{prefix}-{i}";
            return AddProject<TProject>(name)
                .WithEnvironment("NodeAgent__Name", name)
                .WithEnvironment("NodeAgent__StateDirectory", Path.Combine(options.DataDirectory, "nodes", name))
                // Local nodes live and die with the platform: their workloads stop with it and start again with it.
                .WithEnvironment("NodeAgent__Workloads__StopWorkloadsOnExit", "true")
                .WithEnvironment("Auth__Token", PlatformTokens.Issue(key, "platform", name, "agent", AgentTokenLifetime));
        });
        return new NodeAgentGroup([.. agents]);
    }

    internal T Add<T>(T resource) where T : Resource
    {
        if (resources.Any(r => r.Name == resource.Name))
            throw new AppHostException($"two resources are named '{resource.Name}'");
        resources.Add(resource);
        return resource;
    }

    public DistributedApplication Build() => new(options, [.. resources], signingKey);

    static string? ConfiguredConnectionString(string name) =>
        Environment.GetEnvironmentVariable($"ConnectionStrings__{name}") is { Length: > 0 } value ? value : null;
}

/// <summary>What <c>AddPostgres</c> returns: the server, to which databases are added.</summary>
public sealed class PostgresServerBuilder(DistributedApplicationBuilder app, PostgresServerResource server)
{
    public PostgresDatabaseResource AddDatabase(string name) =>
        app.Add(new PostgresDatabaseResource(name, server, Environment.GetEnvironmentVariable($"ConnectionStrings__{name}") is { Length: > 0 } value ? value : null));
}

/// <summary>A set of NodeAgents wired alike.</summary>
public sealed class NodeAgentGroup(IReadOnlyList<ProjectResource> agents)
{
    public IReadOnlyList<ProjectResource> Agents => agents;

    public NodeAgentGroup WithReference(ProjectResource project)
    {
        foreach (var agent in agents) agent.WithReference(project);
        return this;
    }

    public NodeAgentGroup WaitFor(Resource dependency)
    {
        foreach (var agent in agents) agent.WaitFor(dependency);
        return this;
    }
}
