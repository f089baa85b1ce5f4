using System.Text;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// A workload's environment variables on their way to it: a file only root may read (<c>.agent-env/&lt;id&gt;</c> beside
/// the workloads' folders, mode 0700, out of every workload's reach), one <c>NAME base64(value)</c> line each, opened
/// by the root part of the start and read by the wrapper after the switch to the workload's user. So the variables
/// never touch the root part's environment (a <c>PATH</c> or <c>LD_PRELOAD</c> there would choose what root runs) and
/// never appear on a command line (which every user can read in /proc).
/// </summary>
public static class WorkloadEnvironment
{
    /// <summary>Writes the file for the workload in <paramref name="folder"/> and returns its path.</summary>
    public static string Write(string folder, IEnumerable<KeyValuePair<string, string>> variables)
    {
        var store = Store(folder);
        Directory.CreateDirectory(store, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(store, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var text = new StringBuilder();
        foreach (var (name, value) in variables)
        {
            if (!IsName(name)) throw new IOException($"environment variable name '{name}' is not letters, digits and '_'");
            text.Append(name).Append(' ').Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(value))).Append('\n');
        }
        var path = Path.Combine(store, Path.GetFileName(folder));
        Platform.ServiceDefaults.Security.SecretFiles.Write(path, text.ToString());
        return path;
    }

    public static void Delete(string folder) => File.Delete(Path.Combine(Store(folder), Path.GetFileName(folder)));

    static string Store(string folder) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(folder))!, ".agent-env");

    static bool IsName(string name) =>
        name.Length is > 0 and <= 256 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
