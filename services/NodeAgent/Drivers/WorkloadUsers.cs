using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// Each workload runs as a user of its own, from a reserved range no account on the machine uses: it owns its folder
/// (mode 0700) and nothing else, so it cannot read another workload's files, a service's <c>/proc/&lt;pid&gt;/environ</c>
/// or anything only root may. The uid follows from the workload id (the same on every node, so a migrated or restored
/// workload finds its files its own); two workloads on one node never share one (the folders' owners are checked).
/// </summary>
public static partial class WorkloadUsers
{
    public const uint First = 1_000_000_000;
    const uint Count = 1_000_000_000;

    /// <summary>
    /// The workload's uid, its folder created (0700) and owned by it — everything in a folder that came from elsewhere
    /// (a migration) is handed over, without following links. Throws when the folder cannot be reached by that user.
    /// </summary>
    public static uint Prepare(string workloadId, string folder)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(folder))!;
        Directory.CreateDirectory(parent);
        EnsureSearchable(parent);
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var uid = Owner(folder) is var owner and >= First and < First + Count ? owner : Allocate(workloadId, parent);
        // Closed to everyone else before anything inside changes hands, and its own owner changed last.
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Owner(folder) != uid) HandOver(folder, uid);
        return uid;
    }

    /// <summary>
    /// The agent's PATH without the folders a workload's user cannot search (root's own tools, say): a program looked
    /// up there would fail with "permission denied" rather than be looked up further on.
    /// </summary>
    public static string ReachablePath(string path) =>
        string.Join(':', path.Split(':', StringSplitOptions.RemoveEmptyEntries).Where(folder => Path.IsPathRooted(folder) && Directory.Exists(folder) && Searchable(folder)));

    static bool Searchable(string folder)
    {
        for (var current = folder; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
            if (!File.GetUnixFileMode(current).HasFlag(UnixFileMode.OtherExecute)) return false;
        return true;
    }

    /// <summary>The first uid from the id's hash that no other workload folder beside this one is owned by.</summary>
    static uint Allocate(string workloadId, string parent)
    {
        var taken = Directory.EnumerateDirectories(parent).Select(Owner).ToHashSet();
        var start = BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(workloadId))) % Count;
        for (uint i = 0; i < Count; i++)
        {
            var uid = First + (start + i) % Count;
            if (!taken.Contains(uid)) return uid;
        }
        throw new IOException("no workload uid is free");
    }

    /// <summary>
    /// Every folder from the root down to <paramref name="folder"/> must let others pass (x), or the workload's user
    /// cannot reach its own folder; the agent's own state folders get o+x (no listing), anything above them is reported.
    /// </summary>
    static void EnsureSearchable(string folder)
    {
        for (var current = folder; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            var mode = File.GetUnixFileMode(current);
            if (mode.HasFlag(UnixFileMode.OtherExecute)) continue;
            if (current.Length < folder.Length && !IsAgentFolder(current, folder))
                throw new UnauthorizedAccessException(
                    $"{current} (mode {Convert.ToString((int)mode, 8)}) does not let other users pass, so a workload's user cannot reach its folder under it; give the NodeAgent a state folder every user may traverse (NodeAgent:StateDirectory, or the AppHost's --data-dir)");
            File.SetUnixFileMode(current, mode | UnixFileMode.OtherExecute);
        }
    }

    // The workloads' parent and the agent's state folder above it are the agent's own to open up.
    static bool IsAgentFolder(string current, string workloadsParent) =>
        current == Path.GetDirectoryName(workloadsParent);

    /// <summary>Changes the owner of the folder and everything in it, links themselves rather than what they point to.</summary>
    static void HandOver(string folder, uint uid)
    {
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            Change(entry.FullName, uid);
        Change(folder, uid);
    }

    static void Change(string path, uint uid)
    {
        if (LChown(path, uid, uid) != 0)
            throw new IOException($"could not hand {path} to the workload's user {uid}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>The uid owning the path (not following a link), or 0 when it cannot be read.</summary>
    public static uint Owner(string path)
    {
        try
        {
            return Machine.UntrustedFiles.OwnerOf(path);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, uint owner, uint group);
}
