using System.Diagnostics;
using System.Globalization;
using Platform.Compute.V1;
using Platform.NodeAgent.Machine;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// Runs a workload as a supervised OS process. The command runs under a small sh wrapper, in a session of its own (so
/// it outlives an agent restart and every process it starts can be signalled as one group), in the workload's folder,
/// with stdout and stderr appended to files there and its exit code written to <c>exit_code</c> by the wrapper.
/// Contained: the first process joins the workload's control groups (<see cref="WorkloadCgroups"/>: memory, CPU share,
/// process count) and then becomes the workload's own user (<see cref="WorkloadUsers"/>) with no capabilities and
/// no way to gain any (<c>setpriv</c>) before the wrapper opens a file or runs the command; RLIMIT_DATA and nice apply
/// too. Pause is SIGSTOP to the group, resume SIGCONT, stop SIGTERM then SIGKILL — and every process left in the
/// workload's groups is killed with it, whatever session it made for itself.
/// </summary>
public class ProcessDriver(ILogger<ProcessDriver> logger, WorkloadCgroups? cgroups = null) : IWorkloadDriver
{
    /// <summary>The kernel's limits; a driver made without them (a test) finds the node's own.</summary>
    protected WorkloadCgroups Cgroups { get; } = cgroups ?? WorkloadCgroups.Detect("local");

    /// <summary>The processes (and threads) one workload may have at once.</summary>
    public const int MaxProcesses = 512;

    /// <summary>
    /// Run as root before anything else, with the agent's own environment only: the first process joins the workload's
    /// groups, opens the workload's environment file (root-only) on descriptor 3 for the wrapper, then execs the rest.
    /// </summary>
    const string JoinGroups = """
        n=$1; shift
        while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; n=$((n-1)); done
        exec 3< "$1" || exit 125; shift
        exec "$@"
        """;

    /// <summary>
    /// Lets go of the agent's standard streams first (a workload holding the agent's pipes would keep whoever reads
    /// them waiting after the agent is gone), runs "$@" in the background, waits for it and records how it ended.
    /// The wrapper itself ignores TERM and INT: the driver signals the whole process group, so the workload gets them
    /// directly, and a wrapper that trapped them would see its <c>wait</c> cut short with 128+signal — a status it
    /// could not tell from the workload's own, which made a workload that exits 0 on SIGTERM look killed (143).
    /// <c>env --default-signal</c> gives the workload the default handling of TERM and INT (ignored in the wrapper)
    /// and of QUIT (which sh ignores for a background command).
    /// </summary>
    const string Wrapper = """
        while read -r name value; do export "$name=$(printf '%s' "$value" | base64 -d)"; done <&3
        exec 3<&-
        exec </dev/null >>stdout.log 2>>stderr.log
        trap '' TERM INT
        env --default-signal=TERM,INT,QUIT -- "$@" &
        wait $!
        code=$?
        echo $code > exit_code.tmp && mv exit_code.tmp exit_code
        exit $code
        """;

    const int Niceness = 10;
    readonly Dictionary<int, Process> children = [];
    // Looked up once: every start asks for the fingerprint, and the tools do not come and go.
    readonly Lazy<List<string>> missingTools = new(() => [.. new[] { "setsid", "prlimit", "nice", "env", "sh", "setpriv" }.Where(tool => MachineTools.Which(tool) is null)]);

    public virtual string Name => "process";

    public virtual DriverInfo Fingerprint()
    {
        var missing = missingTools.Value;
        var info = new DriverInfo { Name = Name, Available = missing.Count == 0 };
        if (missing.Count > 0) info.Reason = $"missing {string.Join(", ", missing)} (util-linux, coreutils)";
        info.Attributes["limits"] = Cgroups.Enforced ? "cgroups and rlimit" : "rlimit";
        info.Attributes["cgroups"] = Cgroups.Description;
        info.Attributes["memory"] = Cgroups.Enforced ? "the memory cgroup, and RLIMIT_DATA per process (prlimit --data)" : "RLIMIT_DATA per process (prlimit --data)";
        info.Attributes["cpu"] = $"nice {Niceness}{(Cgroups.Enforced ? " and a cgroup share from cpu_millis" : "")} (a weight, not a cap)";
        info.Attributes["processes"] = Cgroups.Enforced ? $"at most {MaxProcesses} (pids cgroup)" : "not limited";
        info.Attributes["user"] = $"a uid of its own from {WorkloadUsers.First} up, owning only the workload's folder; no capabilities, no_new_privs";
        info.Attributes["live_migration"] = CriuProbe.LiveMigration;
        return info;
    }

    /// <summary>The RLIMIT_DATA cap: the workload's memory; a driver with overhead of its own (qemu) adds it.</summary>
    protected virtual long DataLimit(Assignment assignment) => assignment.MemoryBytes;

    /// <summary>The variables the workload gets (its own, as asked); a driver that runs only its own program narrows them.</summary>
    protected virtual IDictionary<string, string> EnvironmentOf(Assignment assignment) => assignment.Env;

    /// <summary>The argument list that runs the command: a driver that wraps it further (sandbox) overrides this.</summary>
    protected virtual IEnumerable<string> CommandLine(Assignment assignment, string folder) => [assignment.Command, .. assignment.Args];

    public Task<WorkloadHandle> StartAsync(Assignment assignment, string folder, CancellationToken cancellationToken)
    {
        // Whatever an earlier run left behind dies first: nothing of the workload runs while root works on its folder.
        KillEveryMember(Path.GetFileName(folder));
        var uid = WorkloadUsers.Prepare(assignment.WorkloadId, folder).ToString(CultureInfo.InvariantCulture);
        File.Delete(Path.Combine(folder, "exit_code"));
        var groups = Cgroups.Create(Path.GetFileName(folder), DataLimit(assignment), assignment.CpuMillis, MaxProcesses);
        var environment = WorkloadEnvironment.Write(folder, EnvironmentOf(assignment));
        var start = new ProcessStartInfo("setsid") { WorkingDirectory = folder, UseShellExecute = false };
        foreach (var argument in (string[])["sh", "-c", JoinGroups, "join", groups.Count.ToString(CultureInfo.InvariantCulture), .. groups, environment,
                     "prlimit", $"--data={DataLimit(assignment)}", "--", "nice", "-n", Niceness.ToString(CultureInfo.InvariantCulture),
                     "setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--",
                     "sh", "-c", Wrapper, assignment.Name, .. CommandLine(assignment, folder)])
            start.ArgumentList.Add(argument);
        start.Environment.Clear();
        start.Environment["PATH"] = WorkloadUsers.ReachablePath(Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin");
        start.Environment["HOME"] = folder;
        start.Environment["TMPDIR"] = folder; // its own folder, not the machine's shared /tmp
        start.Environment["WORKLOAD_ID"] = assignment.WorkloadId;
        start.Environment["WORKLOAD_NAME"] = assignment.Name;
        // The workload's own variables reach it through the wrapper (after the switch to its user), never the root
        // part: a PATH or LD_PRELOAD of its choosing must not pick what root runs.

        var process = Process.Start(start) ?? throw new InvalidOperationException("setsid did not start");
        lock (children) children[process.Id] = process;
        // setsid, sh (joining the groups), prlimit, nice and setpriv exec in place: the pid is the wrapper's, and the
        // leader of the workload's session.
        var stat = ProcessStat.Read(process.Id);
        logger.LogInformation("Started workload {WorkloadName} ({WorkloadId}) as pid {Pid}: {Command}", assignment.Name, assignment.WorkloadId, process.Id, assignment.Command);
        return Task.FromResult(new WorkloadHandle(Name, folder, process.Id, stat?.StartTicks ?? 0));
    }

    public bool Recover(WorkloadHandle handle) =>
        ProcessStat.Read(handle.Pid) is { State: not 'Z' } stat && stat.StartTicks == handle.StartTicks;

    public async Task<int?> WaitAsync(WorkloadHandle handle, CancellationToken cancellationToken)
    {
        Process? child;
        lock (children) children.TryGetValue(handle.Pid, out child);
        if (child is not null)
        {
            await child.WaitForExitAsync(cancellationToken);
            lock (children) children.Remove(handle.Pid);
            // The workload ended with its first process: what it left running (a daemon, a setsid child) ends too.
            KillEveryMember(handle);
            return ExitCode(handle) ?? child.ExitCode;
        }
        // Not our child (the agent restarted): it is gone when its pid is, or is a zombie, or is another process now.
        while (Recover(handle))
            await Task.Delay(200, cancellationToken);
        KillEveryMember(handle);
        return ExitCode(handle);
    }

    public async Task StopAsync(WorkloadHandle handle, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout > TimeSpan.Zero && SignalGroup(handle, Signals.Term))
        {
            SignalGroup(handle, Signals.Cont); // a paused workload must run to handle SIGTERM
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await WaitAsync(handle, deadline.Token);
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogInformation("Workload in {Folder} outlived its {Timeout} stop timeout; killing it", handle.Folder, timeout);
            }
        }
        SignalGroup(handle, Signals.Kill);
        KillEveryMember(handle);
        await WaitAsync(handle, cancellationToken);
    }

    /// <summary>
    /// Every process in the workload's groups killed, a child that made a session of its own included: at once where the
    /// kernel can (<see cref="WorkloadCgroups.KillAll"/>), then SIGKILL round by round until none is left (one may fork
    /// while it is signalled; the pids cap bounds how often).
    /// </summary>
    void KillEveryMember(WorkloadHandle handle) => KillEveryMember(WorkloadId(handle));

    void KillEveryMember(string workloadId)
    {
        Cgroups.KillAll(workloadId);
        for (var round = 0; round < 100; round++)
        {
            var members = Cgroups.Processes(workloadId);
            if (members.Count == 0) return;
            foreach (var pid in members) Signals.Send(pid, Signals.Kill);
            Thread.Sleep(10);
        }
        logger.LogWarning("Processes of workload {WorkloadId} were still alive after 100 rounds of SIGKILL", workloadId);
    }

    /// <summary>The name of the workload's groups: its folder's (the workload id, on a node).</summary>
    static string WorkloadId(WorkloadHandle handle) => Path.GetFileName(handle.Folder);

    /// <summary>CRIU dumps the workload's tree (the wrapper and all it started); it is gone once dumped.</summary>
    public virtual async Task CheckpointAsync(WorkloadHandle handle, string imagesDir, CancellationToken cancellationToken)
    {
        if (CriuProbe.LiveMigration != "criu") throw new NotSupportedException($"live migration is {CriuProbe.LiveMigration}");
        await CriuCheckpoint.DumpAsync(handle.Pid, imagesDir, cancellationToken);
        await WaitAsync(handle, cancellationToken);
        logger.LogInformation("Checkpointed the workload in {Folder} (pid {Pid}) into {Images}", handle.Folder, handle.Pid, imagesDir);
    }

    /// <summary>
    /// CRIU restores the tree detached from the agent, as the workload's user it was dumped as (the uid follows from the
    /// workload id, so it owns its folder here too); its processes are then moved into this node's groups for the
    /// workload, again until none is left outside. The handle is found again like after an agent restart.
    /// </summary>
    public virtual async Task<WorkloadHandle> RestoreAsync(Assignment assignment, string folder, string imagesDir, CancellationToken cancellationToken)
    {
        if (CriuProbe.LiveMigration != "criu") throw new NotSupportedException($"live migration is {CriuProbe.LiveMigration}");
        WorkloadUsers.Prepare(assignment.WorkloadId, folder);
        File.Delete(Path.Combine(folder, "exit_code"));
        var groups = Cgroups.Create(Path.GetFileName(folder), DataLimit(assignment), assignment.CpuMillis, MaxProcesses);
        var pid = await CriuCheckpoint.RestoreAsync(imagesDir, cancellationToken);
        for (var round = 0; round < 100; round++)
        {
            var members = Cgroups.Processes(Path.GetFileName(folder)).ToHashSet();
            var outside = ProcessStat.All().Where(p => p.Session == pid && p.State != 'Z' && !members.Contains(p.Pid)).ToList();
            if (outside.Count == 0) break;
            foreach (var process in outside)
                foreach (var group in groups)
                    try { File.WriteAllText(Path.Combine(group, "cgroup.procs"), process.Pid.ToString(CultureInfo.InvariantCulture)); }
                    catch (IOException) { } // it exited meanwhile
        }
        logger.LogInformation("Restored the workload in {Folder} from its checkpoint as pid {Pid}", folder, pid);
        return new WorkloadHandle(Name, folder, pid, ProcessStat.Read(pid)?.StartTicks ?? 0);
    }

    public void Destroy(WorkloadHandle handle)
    {
        if (handle.Pid > 1) SignalGroup(handle, Signals.Kill);
        KillEveryMember(handle);
        if (!Cgroups.Remove(WorkloadId(handle)))
            logger.LogWarning("The control groups of the workload in {Folder} still hold processes; they stay", handle.Folder);
        WorkloadEnvironment.Delete(handle.Folder);
        if (Directory.Exists(handle.Folder)) Directory.Delete(handle.Folder, recursive: true);
    }

    public string Inspect(WorkloadHandle handle) =>
        ProcessStat.Read(handle.Pid) is { State: not 'Z' } stat && stat.StartTicks == handle.StartTicks
            ? stat.State is 'T' or 't' ? "paused" : "running"
            : "exited";

    public WorkloadUsage Stats(WorkloadHandle handle, IReadOnlyCollection<ProcessStat>? processes = null)
    {
        var members = Cgroups.Processes(WorkloadId(handle)).ToHashSet();
        var group = (processes ?? ProcessStat.All().ToList()).Where(p => (p.Session == handle.Pid || members.Contains(p.Pid)) && p.State != 'Z').ToList();
        long read = 0, written = 0;
        foreach (var process in group)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{process.Pid}/io"))
                {
                    if (line.StartsWith("read_bytes:")) read += long.Parse(line[11..].Trim(), CultureInfo.InvariantCulture);
                    else if (line.StartsWith("write_bytes:")) written += long.Parse(line[12..].Trim(), CultureInfo.InvariantCulture);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        return new(group.Sum(p => p.UserTicks + p.SystemTicks) / ProcessStat.TicksPerSecond, group.Sum(p => p.RssPages) * Environment.SystemPageSize,
            read, written, group.Count);
    }

    /// <summary>
    /// Signals every process of the workload: its group, then each process of its session or its control groups by pid
    /// (one that made a group or session of its own, or was being forked as the group signal went out). A pause is checked: SIGSTOP is sent again
    /// until every process has stopped (one in uninterruptible sleep — a shell waiting in vfork for a child that the
    /// signal stopped, say — keeps the signal pending and stops when it wakes).
    /// </summary>
    public void Signal(WorkloadHandle handle, int signal)
    {
        SignalGroup(handle, signal);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var members = Cgroups.Processes(WorkloadId(handle)).ToHashSet();
            var running = ProcessStat.All().Where(p => (p.Session == handle.Pid || members.Contains(p.Pid)) && p.State is not ('Z' or 'X') && (signal != Signals.Stop || p.State is not ('T' or 't' or 'D'))).ToList();
            if (signal != Signals.Stop && attempt > 0 || running.Count == 0) return;
            foreach (var process in running) Signals.Send(process.Pid, signal);
            if (signal == Signals.Stop) Thread.Sleep(10);
        }
    }

    /// <summary>
    /// Signals the workload's process group; right after the start the group may not exist yet (setsid has not run),
    /// and then the process itself gets the signal.
    /// </summary>
    static bool SignalGroup(WorkloadHandle handle, int signal) => Signals.Send(-handle.Pid, signal) || Signals.Send(handle.Pid, signal);

    /// <summary>The code the wrapper wrote; the workload can write there too, so it is read as untrusted (a FIFO or link counts as unknown).</summary>
    static int? ExitCode(WorkloadHandle handle)
    {
        try
        {
            return int.TryParse(UntrustedFiles.ReadAllText(Path.Combine(handle.Folder, "exit_code"), maxBytes: 32)?.Trim(), CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
