using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Platform.AppHost.Hosting;

/// <summary>
/// Where PostgreSQL keeps its data, and as whom it runs. PostgreSQL refuses to run as root, so as root it runs as the
/// <c>postgres</c> user — who must be able to reach the folder. A checkout under a private (0700) folder is not
/// reachable; the data then lives under the system's temporary folder, in a folder named for the data folder and its
/// instance id (<c>instance-id</c>, made with the data folder): a new checkout at the same path, whose data folder is
/// new, gets a new database rather than the old checkout's, and the old one's folder is removed.
/// </summary>
public sealed record PostgresDataFolder(string Root, string DataDirectory, string PasswordFile, string? RunAsUser)
{
    public static PostgresDataFolder For(string dataRoot, ResourceConsole console)
    {
        var runAs = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || IsRoot() ? "postgres" : null;
        var root = dataRoot;
        if (runAs is not null && !ReachableByOthers(dataRoot))
        {
            var identity = $"{dataRoot}\n{InstanceId(dataRoot)}";
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..12].ToLowerInvariant();
            root = Path.Combine(Path.GetTempPath(), $"platform-{hash}");
            console.AppHost($"{dataRoot} is not reachable by the postgres user; PostgreSQL data lives in {root}");
            RemoveEarlierCheckouts(dataRoot, root, console);
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, OwnerFile), dataRoot);
        }
        return new(root, Path.Combine(root, "postgres"), Path.Combine(root, "postgres.password"), runAs);
    }

    const string OwnerFile = "data-folder";

    /// <summary>The data folder's random id, made the first time it is asked for.</summary>
    static string InstanceId(string dataRoot)
    {
        var file = Path.Combine(dataRoot, "instance-id");
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(dataRoot);
            File.WriteAllText(file, Guid.NewGuid().ToString("N"));
        }
        return File.ReadAllText(file).Trim();
    }

    /// <summary>Fallback folders of earlier data folders at this path (an earlier checkout), unless their PostgreSQL still runs.</summary>
    static void RemoveEarlierCheckouts(string dataRoot, string current, ResourceConsole console)
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), "platform-*"))
        {
            var owner = Path.Combine(folder, OwnerFile);
            if (folder == current || !File.Exists(owner) || File.ReadAllText(owner) != dataRoot || File.Exists(Path.Combine(folder, "postgres", "postmaster.pid")))
                continue;
            console.AppHost($"removing {folder}: the PostgreSQL data of an earlier data folder at {dataRoot}");
            Directory.Delete(folder, recursive: true);
        }
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
