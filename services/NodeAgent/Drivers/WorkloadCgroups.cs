using System.Globalization;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// A control group per workload, so the kernel enforces its memory, its share of the CPU and its number of processes:
/// a memory hog is killed by the OOM killer inside its own group, a fork bomb runs into its process cap, and the agent
/// and the host are untouched. Uses what the node has: cgroup v1 controllers (memory, cpu, pids, each its own
/// hierarchy) or cgroup v2 (one hierarchy, when the agent's group delegates the controllers). The groups live under
/// the agent's own, in <c>platform-workloads/&lt;workload id&gt;</c>; the workload's first process joins them before
/// it runs anything (see <see cref="ProcessDriver"/>), so no child is ever born outside.
/// </summary>
public sealed class WorkloadCgroups
{
    const string Parent = "platform-workloads";
    readonly IReadOnlyDictionary<string, string> roots; // controller → the folder holding the workloads' groups
    readonly bool unified;

    WorkloadCgroups(IReadOnlyDictionary<string, string> roots, bool unified, string description)
    {
        this.roots = roots;
        this.unified = unified;
        Description = description;
    }

    /// <summary>What is enforced here, for the drivers' fingerprints.</summary>
    public string Description { get; }

    public bool Enforced => roots.Count > 0;

    /// <summary>
    /// Finds the controllers from /proc/self/mountinfo and /proc/self/cgroup; the workloads' groups go under
    /// <c>platform-workloads/&lt;scope&gt;</c> in the agent's own (the node's name: agents sharing a machine stay apart).
    /// </summary>
    public static WorkloadCgroups Detect(string scope)
    {
        try
        {
            var memberships = File.ReadAllLines("/proc/self/cgroup").Select(line => line.Split(':', 3)).Where(p => p.Length == 3).ToList();
            var mounts = File.ReadAllLines("/proc/self/mountinfo").Select(line => line.Split(" - ", 2)).Where(p => p.Length == 2)
                .Select(p => (MountPoint: p[0].Split(' ')[4], MountRoot: p[0].Split(' ')[3], Fields: p[1].Split(' '))).ToList();
            // The agent's group, inside the mounted part of the hierarchy (a container may see only its own subtree).
            string Within(string mountPoint, string mountRoot, string group) =>
                Path.Combine(mountPoint, (group.StartsWith(mountRoot, StringComparison.Ordinal) ? group[mountRoot.Length..] : group).TrimStart('/'), Parent, scope);

            var v1 = new Dictionary<string, string>();
            foreach (var controller in (string[])["memory", "cpu", "pids", "freezer"])
            {
                var mount = mounts.FirstOrDefault(m => m.Fields[0] == "cgroup" && m.Fields.Length > 2 && m.Fields[2].Split(',').Contains(controller));
                var member = memberships.FirstOrDefault(m => m[1].Split(',').Contains(controller));
                if (mount.MountPoint is null || member is null) continue;
                var root = Within(mount.MountPoint, mount.MountRoot, member[2]);
                if (TryCreate(root)) v1[controller] = root;
            }
            if (v1.Keys.Any(c => c != "freezer"))
                return new(v1, unified: false, $"cgroup v1: {string.Join(", ", v1.Keys.Select(Explain))}");

            var v2Mount = mounts.FirstOrDefault(m => m.Fields[0] == "cgroup2");
            var v2Member = memberships.FirstOrDefault(m => m[0] == "0");
            if (v2Mount.MountPoint is not null && v2Member is not null)
            {
                var root = Within(v2Mount.MountPoint, v2Mount.MountRoot, v2Member[2]);
                if (TryCreate(root))
                {
                    // A v2 group has a controller only if its parent hands it down: platform-workloads (new, empty)
                    // hands down what it has to the node's scope below it.
                    EnableForChildren(Path.GetDirectoryName(root)!);
                    if (EnableForChildren(root) is { Count: > 0 } enabled)
                        return new(enabled.ToDictionary(c => c, _ => root), unified: true, $"cgroup v2: {string.Join(", ", enabled.Select(Explain))}");
                }
            }
            return new(new Dictionary<string, string>(), false, "no cgroup controllers this agent may use: memory by RLIMIT_DATA per process, CPU by nice only");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new(new Dictionary<string, string>(), false, $"cgroups unusable ({ex.Message}): memory by RLIMIT_DATA per process, CPU by nice only");
        }
    }

    static string Explain(string controller) => controller switch
    {
        "memory" => "memory (the workload's memory_bytes for all its processes together; over it, the OOM killer acts inside the workload)",
        "cpu" => "cpu (a share weighted by cpu_millis)",
        "freezer" => "freezer (a stop freezes every process before killing them, so none escapes by forking)",
        _ => "pids (a cap on its processes and threads)",
    };

    /// <summary>Hands the memory, cpu and pids controllers this v2 group has down to its children; returns those it could.</summary>
    static List<string> EnableForChildren(string folder)
    {
        try
        {
            var available = File.ReadAllText(Path.Combine(folder, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var wanted = available.Intersect(["memory", "cpu", "pids"]).ToList();
            if (wanted.Count > 0) File.WriteAllText(Path.Combine(folder, "cgroup.subtree_control"), string.Join(' ', wanted.Select(c => "+" + c)));
            return wanted;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not delegated here: nothing below gets a controller, and the fingerprint says so.
            return [];
        }
    }

    static bool TryCreate(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Creates the workload's groups with its limits and returns the folders its first process must join (write its
    /// pid to their <c>cgroup.procs</c>).
    /// </summary>
    public IReadOnlyList<string> Create(string workloadId, long memoryBytes, long cpuMillis, int maxProcesses)
    {
        var folders = new List<string>();
        foreach (var (controller, root) in roots)
        {
            var folder = Path.Combine(root, workloadId);
            Directory.CreateDirectory(folder);
            switch (controller)
            {
                case "memory" when unified:
                    Write(folder, "memory.max", memoryBytes);
                    WriteIfPresent(folder, "memory.swap.max", "0");
                    break;
                case "memory":
                    Write(folder, "memory.limit_in_bytes", memoryBytes);
                    WriteIfPresent(folder, "memory.memsw.limit_in_bytes", memoryBytes.ToString(CultureInfo.InvariantCulture));
                    break;
                case "cpu" when unified:
                    Write(folder, "cpu.weight", Math.Clamp(cpuMillis / 10, 1, 10_000));
                    break;
                case "cpu":
                    Write(folder, "cpu.shares", Math.Max(2, cpuMillis * 1024 / 1000));
                    break;
                case "pids":
                    Write(folder, "pids.max", maxProcesses);
                    break;
            }
            if (!folders.Contains(folder)) folders.Add(folder);
        }
        return folders;
    }

    /// <summary>
    /// Kills every process in the workload's groups at once, where the kernel offers it: v2's <c>cgroup.kill</c>, or v1's
    /// freezer (freeze the group, SIGKILL each frozen member, thaw: a member cannot fork while frozen). False where
    /// neither exists; the caller then signals the members round by round.
    /// </summary>
    public bool KillAll(string workloadId)
    {
        try
        {
            if (unified && roots.Values.FirstOrDefault() is { } root && File.Exists(Path.Combine(root, workloadId, "cgroup.kill")))
            {
                File.WriteAllText(Path.Combine(root, workloadId, "cgroup.kill"), "1");
                return true;
            }
            if (!roots.TryGetValue("freezer", out var freezerRoot) || !Directory.Exists(Path.Combine(freezerRoot, workloadId))) return false;
            var state = Path.Combine(freezerRoot, workloadId, "freezer.state");
            File.WriteAllText(state, "FROZEN");
            try
            {
                var frozen = false;
                for (var waited = 0; !(frozen = File.ReadAllText(state).Trim() == "FROZEN") && waited < 2_000; waited += 5) Thread.Sleep(5);
                foreach (var pid in Processes(workloadId)) Signals.Send(pid, Signals.Kill);
                return frozen;
            }
            finally
            {
                // Never left frozen: a frozen process cannot act on the SIGKILL the caller's rounds send.
                File.WriteAllText(state, "THAWED");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Every process in the workload's groups, whatever session or process group it made for itself.</summary>
    public IReadOnlyList<int> Processes(string workloadId) =>
        [.. Folders(workloadId).SelectMany(folder =>
        {
            try { return File.ReadAllLines(Path.Combine(folder, "cgroup.procs")); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return []; }
        }).Select(line => int.TryParse(line, out var pid) ? pid : 0).Where(pid => pid > 1).Distinct()];

    /// <summary>
    /// The kernel's own count of the workload's tasks against its process cap (<c>pids.current</c>), when the pids
    /// controller holds it: one file read at one moment, unlike a union of several hierarchies' member lists.
    /// </summary>
    public long? CappedTasks(string workloadId)
    {
        if (!roots.TryGetValue("pids", out var root)) return null;
        try
        {
            return long.Parse(File.ReadAllText(Path.Combine(root, workloadId, "pids.current")).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>How many of the workload's processes the OOM killer ended for going over its memory, when known.</summary>
    public long? OomKills(string workloadId)
    {
        if (!roots.TryGetValue("memory", out var root)) return null;
        var folder = Path.Combine(root, workloadId);
        try
        {
            var counter = File.ReadAllLines(Path.Combine(folder, unified ? "memory.events" : "memory.oom_control"))
                .Select(line => line.Split(' ')).FirstOrDefault(parts => parts[0] == "oom_kill");
            return counter is null ? null : long.Parse(counter[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Removes the workload's groups once they are empty; false while a process is still in one.</summary>
    public bool Remove(string workloadId)
    {
        var removed = true;
        foreach (var folder in Folders(workloadId))
        {
            try { Directory.Delete(folder); }
            catch (DirectoryNotFoundException) { }
            catch (IOException) { removed = false; }
        }
        return removed;
    }

    IEnumerable<string> Folders(string workloadId) => roots.Values.Distinct().Select(root => Path.Combine(root, workloadId)).Where(Directory.Exists);

    static void Write(string folder, string file, long value) => File.WriteAllText(Path.Combine(folder, file), value.ToString(CultureInfo.InvariantCulture));

    static void WriteIfPresent(string folder, string file, string value)
    {
        var path = Path.Combine(folder, file);
        if (File.Exists(path)) File.WriteAllText(path, value);
    }
}
