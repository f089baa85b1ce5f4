using System.Net.Http;

namespace Platform.AppHost.Hosting;

/// <summary>
/// A .NET project run as <c>dotnet {TargetPath}</c> with two endpoints — <c>http</c> (HTTP/1.1 and 2: REST,
/// health, metrics) and <c>grpc</c> (HTTP/2 only) — and the Aspire configuration keys for everything it references.
/// Healthy once <c>/health</c> answers 200; restarted if it exits later, and reported as crash-looping if it keeps exiting.
/// </summary>
public sealed class ProjectResource(string name, string projectPath, string targetPath) : Resource(name)
{
    const int MaxRestarts = 3;
    static readonly TimeSpan RestartWindow = TimeSpan.FromSeconds(60);

    readonly Dictionary<string, Func<string>> environment = [];
    readonly List<DateTimeOffset> restarts = [];
    ChildProcess? process;
    RunContext? run;
    volatile bool stopping;
    bool fixedHttpPort;

    public int HttpPort { get; private set; } = -1;
    /// <summary>The https endpoint's port, when the project has one (-1: none; 0 until a free one is chosen).</summary>
    public int HttpsPort { get; private set; } = -1;
    Func<(string Certificate, string Key)>? certificate;
    bool fixedHttpsPort;
    public int GrpcPort { get; private set; } = -1;
    public string HttpUrl => $"http://127.0.0.1:{HttpPort}";
    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";
    public int? ProcessId => process?.Id;

    /// <summary>Fixes the http endpoint's port (0 or negative: a free one is chosen at start).</summary>
    public ProjectResource WithHttpPort(int port)
    {
        HttpPort = port;
        fixedHttpPort = port > 0;
        return this;
    }

    /// <summary>
    /// Adds an <c>https</c> endpoint (TLS 1.3 only) with a PEM certificate and key (0 or negative: a free port).
    /// </summary>
    public ProjectResource WithHttpsEndpoint(int port, Func<(string Certificate, string Key)> pemFiles)
    {
        HttpsPort = Math.Max(0, port);
        fixedHttpsPort = port > 0;
        certificate = pemFiles;
        return this;
    }

    public string? HttpsUrl => HttpsPort > 0 ? $"https://127.0.0.1:{HttpsPort}" : null;

    /// <summary>Lines the AppHost prints beside the gateway's address once everything is up (an entry point this project offers).</summary>
    public List<Func<string>> Announcements { get; } = [];

    public ProjectResource WithAnnouncement(Func<string> line)
    {
        Announcements.Add(line);
        return this;
    }

    public ProjectResource WithEnvironment(string key, string value) => WithEnvironment(key, () => value);

    public ProjectResource WithEnvironment(string key, Func<string> value)
    {
        environment[key] = value;
        return this;
    }

    /// <summary>Injects a connection string as <c>ConnectionStrings__{name}</c>, read when the project starts.</summary>
    public ProjectResource WithReference(IResourceWithConnectionString resource) =>
        WithEnvironment($"ConnectionStrings__{resource.Name}", () => resource.ConnectionString);

    /// <summary>Injects another project's endpoints as <c>services__{name}__http__0</c> and <c>services__{name}__grpc__0</c>.</summary>
    public ProjectResource WithReference(ProjectResource project) =>
        WithEnvironment($"services__{project.Name}__http__0", () => project.HttpUrl)
            .WithEnvironment($"services__{project.Name}__grpc__0", () => project.GrpcUrl);

    /// <summary>Chooses the ports still open; called for every project before any starts, so references can resolve.</summary>
    public void AllocatePorts()
    {
        if (HttpPort <= 0) HttpPort = Ports.Free();
        else if (!Ports.IsFree(HttpPort))
            throw new AppHostException($"port {HttpPort} for {Name} is already in use; stop what holds it or choose another (--gateway-port N, or 0 for any free port)");
        GrpcPort = Ports.Free();
        if (HttpsPort == 0) HttpsPort = Ports.Free();
        else if (fixedHttpsPort && !Ports.IsFree(HttpsPort))
            throw new AppHostException($"port {HttpsPort} for {Name} is already in use; stop what holds it or choose another (--gateway-https-port N, or 0 for any free port)");
    }

    public override async Task StartAsync(RunContext run, CancellationToken cancellationToken)
    {
        this.run = run;
        if (!File.Exists(targetPath))
            throw new AppHostException($"{Name}: {targetPath} is missing; build the solution first (dotnet build)");
        State = ResourceState.Starting;
        for (var attempt = 1; ; attempt++)
        {
            Launch(run);
            try
            {
                await WaitHealthyAsync(run, cancellationToken);
                break;
            }
            catch (AppHostException) when (attempt < 3 && process!.Exited.IsCompleted && TakenPort(process.LastLines()) is { } taken && MayMove(taken))
            {
                // Another process bound one of our ports between choosing and binding it: that port alone is chosen
                // again — the others may already be in use by those that started before (the issuer's address is).
                run.Console.AppHost($"{Name}: port {taken} was taken before it could bind; retrying on another");
                process.Dispose();
                if (taken == HttpPort) HttpPort = Ports.Free();
                else if (taken == GrpcPort) GrpcPort = Ports.Free();
                else HttpsPort = Ports.Free();
            }
        }
        State = ResourceState.Running;
        _ = SuperviseAsync();
    }

    /// <summary>The port Kestrel said it could not bind ("Failed to bind to address http://127.0.0.1:PORT: address already in use").</summary>
    public static int? TakenPort(string lastLines) =>
        System.Text.RegularExpressions.Regex.Match(lastLines, @"Failed to bind to address \S+:(\d+): address already in use") is { Success: true } match
            ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>Whether a taken port of ours was chosen freely (a port the operator fixed is theirs to free).</summary>
    bool MayMove(int port) => port == GrpcPort || port == HttpPort && !fixedHttpPort || port == HttpsPort && !fixedHttpsPort && certificate is not null;

    void Launch(RunContext run)
    {
        var variables = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["DOTNET_gcServer"] = "0",
            ["Kestrel__Endpoints__http__Url"] = HttpUrl,
            ["Kestrel__Endpoints__grpc__Url"] = GrpcUrl,
            ["Kestrel__Endpoints__grpc__Protocols"] = "Http2",
            ["OTEL_SERVICE_NAME"] = Name,
            ["PLATFORM_PARENT_PID"] = Environment.ProcessId.ToString(),
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss ",
        };
        if (certificate is not null && HttpsUrl is { } https)
        {
            var (pem, key) = certificate();
            variables["Kestrel__Endpoints__https__Url"] = https;
            variables["Kestrel__Endpoints__https__Certificate__Path"] = pem;
            variables["Kestrel__Endpoints__https__Certificate__KeyPath"] = key;
            // TLS 1.3 only: AEAD ciphers (AES-256-GCM among them) with replay protection, what seed 000 asks of a payload layer.
            variables["Kestrel__Endpoints__https__SslProtocols__0"] = "Tls13";
        }
        foreach (var (key, value) in environment) variables[key] = value();
        // Like `dotnet run`, the project folder is the working directory and so the content root (appsettings.json).
        process = ChildProcess.Start(Name, DotnetHost.Path, ["exec", targetPath], variables, run.Console, Path.GetDirectoryName(projectPath));
    }

    Task WaitHealthyAsync(RunContext run, CancellationToken cancellationToken) =>
        HealthProbe.WaitAsync(Name, $"{HttpUrl}/health", process!, run.Options.HealthTimeout, cancellationToken);

    async Task SuperviseAsync()
    {
        while (process is { } current)
        {
            var code = await current.Exited;
            if (stopping || run!.IsStopping) return;
            var now = DateTimeOffset.UtcNow;
            restarts.RemoveAll(t => now - t > RestartWindow);
            if (restarts.Count >= MaxRestarts)
            {
                State = ResourceState.Failed;
                run.Fail(this, $"{Name} is crash-looping: it exited {MaxRestarts + 1} times within {RestartWindow.TotalSeconds:F0} s (last exit code {code})");
                return;
            }
            restarts.Add(now);
            run.Console.AppHost($"{Name} exited with code {code}; restarting ({restarts.Count}/{MaxRestarts})");
            current.Dispose();
            Launch(run);
        }
    }

    public override async Task StopAsync()
    {
        stopping = true;
        if (process is null) return;
        State = ResourceState.Stopping;
        // A NodeAgent drains its pending metric batches for up to 12 s on a loaded machine; 15 s covers that and its stop.
        await process.StopAsync(ChildProcess.SIGTERM, TimeSpan.FromSeconds(15));
        State = ResourceState.Stopped;
    }

    public override string Describe() => $"{HttpUrl} (http), {GrpcUrl} (grpc){(HttpsUrl is { } https ? $", {https} (https)" : "")}";
}

/// <summary>The <c>dotnet</c> executable that runs this AppHost, used to run the projects too.</summary>
static class DotnetHost
{
    public static string Path { get; } = Find();

    static string Find()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        // The runtime folder is <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        var runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        var root = System.IO.Path.GetFullPath(System.IO.Path.Combine(runtime, "..", "..", ".."));
        var candidate = System.IO.Path.Combine(root, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
