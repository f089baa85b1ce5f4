using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;
using Platform.TestSupport;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// Workloads written as attacks on the node: each runs under the process driver as a stranger's code would, and what
/// it tries must fail, be capped or be contained, with the agent (this process) and the machine untouched.
/// </summary>
public sealed class ContainmentTests() : DriverTestBed("contained-")
{
    readonly WorkloadCgroups cgroups = WorkloadCgroups.Detect($"containment-{Guid.NewGuid():N}");
    ProcessDriver? driver;

    ProcessDriver Driver => driver ??= new ProcessDriver(NullLogger<ProcessDriver>.Instance, cgroups);

    /// <summary>Runs the script to its end; its output is stdout then stderr.</summary>
    async Task<(WorkloadHandle Handle, int? ExitCode, string Output)> RunAsync(string script, long memoryBytes = 256L << 20)
    {
        var handle = await StartAsync(Driver, Assignment(script, memoryBytes));
        var exitCode = await Driver.WaitAsync(handle, new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        return (handle, exitCode, File.ReadAllText(Path.Combine(handle.Folder, "stdout.log")) + File.ReadAllText(Path.Combine(handle.Folder, "stderr.log")));
    }

    static string Stdout(WorkloadHandle handle) => File.ReadAllText(Path.Combine(handle.Folder, "stdout.log"));

    static Assignment Assignment(string script, long memoryBytes) => new()
    {
        WorkloadId = Guid.NewGuid().ToString(), Name = "attacker", Driver = "process", Command = "sh", Args = { "-c", script }, MemoryBytes = memoryBytes, CpuMillis = 500,
    };

    [Fact]
    public async Task A_workload_cannot_read_the_agents_environment_or_root_only_files()
    {
        var (handle, exitCode, output) = await RunAsync($"cat /proc/{Environment.ProcessId}/environ; cat /etc/shadow; id -u");

        Assert.Equal(0, exitCode); // id -u ran last
        Assert.Contains($"/proc/{Environment.ProcessId}/environ: Permission denied", output);
        Assert.Contains("/etc/shadow: Permission denied", output);
        Assert.True(uint.Parse(Stdout(handle).Trim()) >= WorkloadUsers.First, output);
    }

    [Fact]
    public async Task A_workload_cannot_write_outside_its_folder_nor_into_another_workloads()
    {
        var (neighbour, _, _) = await RunAsync("echo mine > secret");
        var (attacker, _, output) = await RunAsync($"echo x > /etc/platform-escape; echo x > /usr/platform-escape; cat {neighbour.Folder}/secret; echo x > {neighbour.Folder}/planted; echo own > here && cat here");

        Assert.False(File.Exists("/etc/platform-escape"));
        Assert.False(File.Exists("/usr/platform-escape"));
        Assert.False(File.Exists(Path.Combine(neighbour.Folder, "planted")));
        Assert.Contains("Permission denied", output);
        Assert.DoesNotContain("mine", output);
        Assert.Equal("own", Stdout(attacker).Trim());
    }

    [Fact]
    public async Task A_log_file_linked_to_a_host_file_is_not_written_through_on_the_next_start()
    {
        var assignment = Assignment("echo first", 64L << 20);
        var handle = await StartAsync(Driver, assignment);
        await Driver.WaitAsync(handle, CancellationToken.None);
        var target = Path.Combine(Root, "host-file");
        File.WriteAllText(target, "untouched");
        File.Delete(Path.Combine(handle.Folder, "stdout.log"));
        File.CreateSymbolicLink(Path.Combine(handle.Folder, "stdout.log"), target);

        // The workload restarts: its wrapper opens stdout.log as the workload's user, who may not write the host file.
        var restarted = await Driver.StartAsync(assignment, handle.Folder, CancellationToken.None);
        await Driver.WaitAsync(restarted, CancellationToken.None);

        Assert.Equal("untouched", File.ReadAllText(target));
    }

    [Fact]
    public async Task A_fork_bomb_hits_its_process_cap_and_everything_it_started_dies_with_it()
    {
        Assert.True(cgroups.Enforced, cgroups.Description);
        var handle = await StartAsync(Driver, Assignment("while :; do sleep 600 & done", 256L << 20));

        await Eventually.HoldsAsync(() => cgroups.Processes(Path.GetFileName(handle.Folder)).Count >= ProcessDriver.MaxProcesses - 5, "the bomb filled its process cap", TimeSpan.FromMinutes(2));
        // The kernel's count against the cap (a union of the hierarchies' member lists, read one after another, can
        // catch a process leaving in one and its successor arriving in another).
        var peak = cgroups.CappedTasks(Path.GetFileName(handle.Folder)) ?? cgroups.Processes(Path.GetFileName(handle.Folder)).Count;
        using (var probe = System.Diagnostics.Process.Start("true")!) await probe.WaitForExitAsync(); // the node still starts processes
        await Driver.StopAsync(handle, TimeSpan.Zero, CancellationToken.None);

        Assert.InRange(peak, 1, ProcessDriver.MaxProcesses);
        Assert.Empty(cgroups.Processes(Path.GetFileName(handle.Folder)));
    }

    [Fact]
    public async Task A_workload_forking_as_fast_as_it_can_is_killed_at_once_by_the_kernel_where_it_can()
    {
        Assert.True(cgroups.Enforced, cgroups.Description);
        // Each child starts the next and exits: a signal round always finds pids that are already gone and misses new ones.
        // The workload's shell starts a new chain every second, so a chain that dies (a fork refused under load) does
        // not leave nothing to kill.
        var handle = await StartAsync(Driver, Assignment("f() { f & exit 0; }; while :; do (f); sleep 1; done", 256L << 20));
        var id = Path.GetFileName(handle.Folder);
        await Eventually.HoldsAsync(() => cgroups.Processes(id).Count > 0, "the forker running");

        var atOnce = cgroups.KillAll(id);

        // These machines mount the v1 freezer; a node with cgroup v2 has cgroup.kill.
        Assert.True(atOnce, cgroups.Description);
        await Eventually.HoldsAsync(() => cgroups.Processes(id).Count == 0, "nothing of the forker left", TimeSpan.FromSeconds(10));
        await Driver.StopAsync(handle, TimeSpan.Zero, CancellationToken.None);
    }

    [Fact]
    public async Task A_memory_hog_spread_over_processes_is_stopped_at_the_workloads_limit()
    {
        Assert.True(cgroups.Enforced, cgroups.Description);
        // Four processes of 40 MiB each: under RLIMIT_DATA one by one (64 MiB), 2.5 times the workload's 64 MiB together.
        var (handle, _, output) = await RunAsync("for i in 1 2 3 4; do (head -c 40m /dev/zero | tail > /dev/null; echo $?) & done; wait; echo survived", memoryBytes: 64L << 20);

        Assert.True(cgroups.OomKills(Path.GetFileName(handle.Folder)) > 0, $"the OOM killer acted inside the workload: {output}");
        Assert.Contains("137", output); // a hog was killed (128 + SIGKILL) ...
        Assert.Contains("survived", output); // ... and the workload's shell, under the limit, went on
        Assert.Empty(cgroups.Processes(Path.GetFileName(handle.Folder)));
    }

    [Fact]
    public async Task Its_own_PATH_and_variables_reach_the_workload_but_never_what_root_runs_to_start_it()
    {
        var marker = Path.Combine(Root, $"root-ran-it-{Guid.NewGuid():N}");
        // First run: plants ./sh, which a root part that honoured the workload's PATH would run on the next start.
        var assignment = Assignment($"printf '#!/bin/sh\\ntouch {marker}\\n' > sh; chmod +x sh; echo \"$PATH|$SECRET\"", 64L << 20);
        assignment.Command = "/bin/sh"; // its own command, by its own choice not looked up on its own PATH
        assignment.Env["PATH"] = ".:/usr/bin:/bin";
        assignment.Env["SECRET"] = "with space=and equals";
        var handle = await StartAsync(Driver, assignment);
        await Driver.WaitAsync(handle, CancellationToken.None);

        var restarted = await Driver.StartAsync(assignment, handle.Folder, CancellationToken.None);
        await Driver.WaitAsync(restarted, CancellationToken.None);

        Assert.False(File.Exists(marker), "root ran the workload's ./sh");
        Assert.Equal([".:/usr/bin:/bin|with space=and equals", ".:/usr/bin:/bin|with space=and equals"], Stdout(handle).Trim().Split('\n'));
    }
}
