using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Platform.AppHost.Hosting;

/// <summary>
/// Makes a Next.js app ready to start, as Aspire's npm app resource does: <c>npm ci</c> when <c>node_modules</c> does
/// not match <c>package-lock.json</c>, and <c>next build</c> when the sources changed since the last build (a hash of
/// them is kept beside the build). Two processes preparing the same app take turns on a lock file.
/// </summary>
public static class NextBuild
{
    /// <summary>What a build reads; anything else (tests, the build itself, dependencies) does not make it stale.</summary>
    static readonly string[] SourceFolders = ["app", "components", "lib", "public"];
    static readonly string[] SourceFiles = ["package.json", "package-lock.json", "next.config.ts", "tsconfig.json"];

    public static async Task EnsureAsync(string appDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        using var turn = await LockAsync(Path.Combine(appDirectory, ".platform-build.lock"), cancellationToken);
        var lockHash = Hash(appDirectory, [Path.Combine(appDirectory, "package-lock.json")]);
        var installed = Path.Combine(appDirectory, "node_modules", ".platform-lock-hash");
        if (!File.Exists(installed) || await File.ReadAllTextAsync(installed, cancellationToken) != lockHash)
        {
            log("installing the control panel's packages (npm ci)");
            await RunAsync(appDirectory, "npm", ["ci", "--no-audit", "--no-fund"], log, cancellationToken);
            await File.WriteAllTextAsync(installed, lockHash, cancellationToken);
        }
        var sourceHash = Hash(appDirectory, Sources(appDirectory));
        var built = Path.Combine(appDirectory, ".next", "platform-source-hash");
        if (File.Exists(Path.Combine(appDirectory, ".next", "BUILD_ID")) && File.Exists(built) && await File.ReadAllTextAsync(built, cancellationToken) == sourceHash)
            return;
        log("building the control panel (next build)");
        await RunAsync(appDirectory, "node", [Path.Combine("node_modules", "next", "dist", "bin", "next"), "build"], log, cancellationToken);
        await File.WriteAllTextAsync(built, sourceHash, cancellationToken);
    }

    static IEnumerable<string> Sources(string appDirectory) =>
        SourceFolders.Select(f => Path.Combine(appDirectory, f)).Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories))
            .Concat(SourceFiles.Select(f => Path.Combine(appDirectory, f)).Where(File.Exists));

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

    static async Task RunAsync(string directory, string program, IReadOnlyList<string> arguments, Action<string> log, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["NEXT_TELEMETRY_DISABLED"] = "1";
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new AppHostException($"web: cannot run {program} ({ex.Message}); install Node.js 20 or later with npm");
        }
        using var _ = process;
        var tail = new Queue<string>();
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > 30) tail.Dequeue();
            }
            log(line);
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new AppHostException($"web: {program} {string.Join(' ', arguments)} failed with code {process.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}");
    }
}
