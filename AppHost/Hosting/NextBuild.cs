using System.Security.Cryptography;
using System.Text;

namespace Platform.AppHost.Hosting;

/// <summary>
/// Makes a Next.js app ready to start, as Aspire's npm app resource does: <c>npm ci</c> when <c>node_modules</c> does
/// not match <c>package-lock.json</c>, and <c>next build</c> when the sources changed since the last build (a hash of
/// them and of Node's version is kept beside the build). Two processes preparing the same app take turns on a lock
/// file. npm and Next.js run with a short list of the AppHost's environment (<see cref="ChildEnvironment"/>), never its
/// secrets (the admin password, connection strings), and packages' install scripts do not run.
/// </summary>
public static class NextBuild
{
    /// <summary>What a build reads besides the files at the app's root; tests, the build itself and dependencies do not make it stale.</summary>
    static readonly string[] SourceFolders = ["app", "components", "lib", "public"];
    static readonly string[] NotSources = [".platform-build.lock", "next-env.d.ts", "tsconfig.tsbuildinfo"];
    static readonly Version MinimumNode = new(20, 9);

    /// <summary>The variables npm, Next.js and Node need, from the AppHost's own environment, plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string> ChildEnvironment(IReadOnlyDictionary<string, string>? extra = null)
    {
        var variables = new Dictionary<string, string> { ["NEXT_TELEMETRY_DISABLED"] = "1" };
        foreach (var name in new[] { "PATH", "HOME", "LANG", "TMPDIR", "USER", "npm_config_registry", "npm_config_cache", "NODE_EXTRA_CA_CERTS", "PLATFORM_TEST_MARKER" })
            if (Environment.GetEnvironmentVariable(name) is { } value) variables[name] = value;
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) variables[key] = value;
        return variables;
    }

    public static async Task EnsureAsync(string appDirectory, string resource, ResourceConsole console, CancellationToken cancellationToken)
    {
        var node = await NodeVersionAsync(appDirectory, resource, console, cancellationToken);
        using var turn = await LockAsync(Path.Combine(appDirectory, ".platform-build.lock"), cancellationToken);
        var lockHash = Hash(appDirectory, [Path.Combine(appDirectory, "package-lock.json")]);
        var installed = Path.Combine(appDirectory, "node_modules", ".platform-lock-hash");
        if (!File.Exists(installed) || await File.ReadAllTextAsync(installed, cancellationToken) != lockHash)
        {
            console.Line(resource, "installing the control panel's packages (npm ci)");
            await RunAsync(appDirectory, "npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], resource, console, cancellationToken);
            await File.WriteAllTextAsync(installed, lockHash, cancellationToken);
        }
        var sourceHash = Hash(appDirectory, Sources(appDirectory)) + "/node-" + node;
        var built = Path.Combine(appDirectory, ".next", "platform-source-hash");
        if (File.Exists(Path.Combine(appDirectory, ".next", "BUILD_ID")) && File.Exists(built) && await File.ReadAllTextAsync(built, cancellationToken) == sourceHash)
            return;
        console.Line(resource, "building the control panel (next build)");
        await RunAsync(appDirectory, "node", [Path.Combine("node_modules", "next", "dist", "bin", "next"), "build"], resource, console, cancellationToken);
        await File.WriteAllTextAsync(built, sourceHash, cancellationToken);
    }

    static IEnumerable<string> Sources(string appDirectory) =>
        SourceFolders.Select(f => Path.Combine(appDirectory, f)).Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(appDirectory).Where(f => !NotSources.Contains(Path.GetFileName(f))));

    /// <summary>Node's version, or a clear refusal when it is missing or older than Next.js accepts.</summary>
    static async Task<Version> NodeVersionAsync(string appDirectory, string resource, ResourceConsole console, CancellationToken cancellationToken)
    {
        string printed;
        try
        {
            printed = (await RunAsync(appDirectory, "node", ["--version"], resource, console, cancellationToken)).Trim();
        }
        catch (AppHostException ex)
        {
            printed = ex.Message;
        }
        if (!Version.TryParse(printed.TrimStart('v'), out var version) || version < MinimumNode)
            throw new AppHostException($"{resource}: Node.js {MinimumNode} or later is needed (found '{printed}'); install it, or start with --no-web");
        return version;
    }

    static string Hash(string root, IEnumerable<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file + "\0"));
            sha.AppendData(File.ReadAllBytes(Path.Combine(root, file)));
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    /// <summary>Runs one step as a child of the AppHost (its output under the resource's name); answers what it printed last.</summary>
    static async Task<string> RunAsync(string directory, string program, IReadOnlyList<string> arguments, string resource, ResourceConsole console,
        CancellationToken cancellationToken)
    {
        using var child = ChildProcess.Start(resource, program, arguments, ChildEnvironment(), console, directory, inheritEnvironment: false);
        int code;
        try
        {
            code = await child.Exited.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await child.StopAsync(ChildProcess.SIGTERM, TimeSpan.FromSeconds(5));
            throw;
        }
        if (code != 0)
            throw new AppHostException($"{resource}: {program} {string.Join(' ', arguments)} failed with code {code}:{Environment.NewLine}{child.LastLines()}");
        return child.LastLines();
    }
}
