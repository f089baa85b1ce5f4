using System.Security.Cryptography;

namespace Platform.AppHost.Hosting;

/// <summary>Declares the platform's resources the way Aspire's builder does; <see cref="Build"/> freezes the model.</summary>
public sealed class DistributedApplicationBuilder(AppHostOptions options)
{
    readonly List<Resource> resources = [];
    readonly HashSet<ProjectResource> agents = [];

    public AppHostOptions Options => options;

    public PostgresServerBuilder AddPostgres(string name) =>
        new(this, Add(new PostgresServerResource(name, external: ConfiguredConnectionString("platformdb") is not null)));

    public GarnetResource AddGarnet(string name) => Add(new GarnetResource(name, ConfiguredConnectionString(name)));

    /// <summary>
    /// The control panel (<c>web/</c>) on <see cref="AppHostOptions.WebPort"/>, or null with <c>--no-web</c> or when the
    /// checkout has no <c>web/</c> folder.
    /// </summary>
    public NextAppResource? AddControlPanel(string name) =>
        options.WebPort == AppHostOptions.NoWeb || AppHostOptions.WebDirectory is not { } web
            ? null
            : Add(new NextAppResource(name, web, options.WebPort > 0 ? options.WebPort : Ports.Free()));

    public ProjectResource AddProject<TProject>(string name) where TProject : Projects.IProjectMetadata =>
        Add(new ProjectResource(name, TProject.ProjectPath, TProject.TargetPath));

    /// <summary>
    /// <paramref name="count"/> NodeAgents named <c>{prefix}-0</c>…, each with its own state folder, stopping their
    /// workloads when they stop; <see cref="WithIssuer"/> gives each a credential bound to its node.
    /// </summary>
    public NodeAgentGroup AddNodeAgents<TProject>(string prefix, int count) where TProject : Projects.IProjectMetadata
    {
        var group = Enumerable.Range(0, count).Select(i =>
        {
            var name = $"{prefix}-{i}";
            return AddProject<TProject>(name)
                .WithEnvironment("NodeAgent__Name", name)
                .WithEnvironment("NodeAgent__StateDirectory", Path.Combine(options.DataDirectory, "nodes", name))
                // One image store for the VMs of every node on this machine: operators put disk images there by name.
                .WithEnvironment("NodeAgent__Qemu__ImageDirectory", Path.Combine(options.DataDirectory, "images"))
                // Local nodes live and die with the platform: their workloads stop with it and start again with it.
                .WithEnvironment("NodeAgent__Workloads__StopWorkloadsOnExit", "true");
        }).ToList();
        agents.UnionWith(group);
        return new NodeAgentGroup(group);
    }

    /// <summary>
    /// Makes <paramref name="issuer"/> (the gateway) the platform's token issuer. It alone gets the folder of signing
    /// keys; every other project gets the issuer's address (to fetch its public keys) and a client credential of its
    /// own — a random secret made for this run — which the issuer knows only as a SHA-256, with the role its tokens
    /// carry (NodeAgents: agent, bound to their node; the rest: service). The <c>admin</c> user's password is
    /// <c>Platform__AdminPassword</c> when set; otherwise one generated at the first start, printed once and kept in
    /// <c>initial-admin-password</c> (0600) in the data folder.
    /// </summary>
    public void WithIssuer(ProjectResource issuer)
    {
        issuer.WithEnvironment("Gateway__Auth__KeyDirectory", Path.Combine(options.DataDirectory, "issuer-keys"));
        if (Environment.GetEnvironmentVariable("Platform__AdminPassword") is { Length: > 0 } password)
            issuer.WithEnvironment("Gateway__Auth__AdminPassword", password);
        else
            issuer.WithEnvironment("Gateway__Auth__InitialAdminPasswordFile", InitialAdminPasswordFile());
        foreach (var project in resources.OfType<ProjectResource>().Where(p => p != issuer))
        {
            var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            project.WithEnvironment("Auth__Authority", () => issuer.HttpUrl)
                .WithEnvironment("Auth__ClientId", project.Name)
                .WithEnvironment("Auth__ClientSecret", secret);
            issuer.WithEnvironment($"Gateway__Auth__Clients__{project.Name}__SecretSha256", Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret))))
                .WithEnvironment($"Gateway__Auth__Clients__{project.Name}__Role", agents.Contains(project) ? "agent" : "service");
        }
    }

    string InitialAdminPasswordFile()
    {
        var file = Path.Combine(options.DataDirectory, "initial-admin-password");
        if (File.Exists(file)) return file;
        Directory.CreateDirectory(options.DataDirectory);
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        Platform.ServiceDefaults.Security.SecretFiles.Write(file, password + "\n");
        Console.WriteLine($"{"apphost",-10} | the admin user's initial password: {password} (kept in {file}; log in and change it)");
        return file;
    }

    internal T Add<T>(T resource) where T : Resource
    {
        if (resources.Any(r => r.Name == resource.Name))
            throw new AppHostException($"two resources are named '{resource.Name}'");
        resources.Add(resource);
        return resource;
    }

    public DistributedApplication Build() => new(options, [.. resources]);

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
