using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Platform.AppHost.Hosting;

/// <summary>
/// Where PostgreSQL keeps its data, and as whom it runs. PostgreSQL refuses to run as root, so as root it runs as the
/// <c>postgres</c> user — who must be able to reach the folder. A checkout under a private (0700) folder is not
/// reachable; the data then lives under the system's temporary folder, in a folder named for the checkout.
/// </summary>
public sealed record PostgresDataFolder(string Root, string DataDirectory, string PasswordFile, string? RunAsUser)
{
    public static PostgresDataFolder For(string dataRoot, ResourceConsole console)
    {
        var runAs = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || IsRoot() ? "postgres" : null;
        var root = dataRoot;
        if (runAs is not null && !ReachableByOthers(dataRoot))
        {
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(dataRoot)))[..12].ToLowerInvariant();
            root = Path.Combine(Path.GetTempPath(), $"platform-{hash}");
            console.AppHost($"{dataRoot} is not reachable by the postgres user; PostgreSQL data lives in {root}");
        }
        return new(root, Path.Combine(root, "postgres"), Path.Combine(root, "postgres.password"), runAs);
    }

    /// <summary>Creates the folders with the owners and modes PostgreSQL insists on (data folder 0700, owned by its user).</summary>
    public void Prepare()
    {
        Directory.CreateDirectory(Root);
        if (RunAsUser is not null)
            File.SetUnixFileMode(Root, File.GetUnixFileMode(Root) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        Directory.CreateDirectory(DataDirectory);
        File.SetUnixFileMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (RunAsUser is not null)
            Run("chown", "-R", $"{RunAsUser}:{RunAsUser}", DataDirectory);
    }

    /// <summary>The command line that runs <paramref name="program"/> as PostgreSQL's user (setpriv execs, keeping the PID).</summary>
    public (string File, IReadOnlyList<string> Arguments) AsPostgresUser(string program, params string[] arguments) =>
        RunAsUser is null
            ? (program, arguments)
            : ("setpriv", [$"--reuid={RunAsUser}", $"--regid={RunAsUser}", "--init-groups", "--", program, .. arguments]);

    static bool IsRoot() => File.Exists("/proc/self/status") &&
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";

    /// <summary>True when every existing folder from / down to <paramref name="path"/> lets other users pass (o+x).</summary>
    static bool ReachableByOthers(string path)
    {
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
            if (dir.Exists && !dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
                return false;
        return true;
    }

    public static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new AppHostException($"cannot run {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new AppHostException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()} {output.Result.Trim()}");
    }
}
