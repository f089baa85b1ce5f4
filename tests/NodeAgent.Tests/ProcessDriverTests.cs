using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;
using Platform.TestSupport;

namespace Platform.NodeAgent.Tests;

/// <summary>The process driver running real processes on this machine.</summary>
public sealed class ProcessDriverTests() : DriverTestBed("driver-")
{
    readonly ProcessDriver driver = new(NullLogger<ProcessDriver>.Instance);

    async Task<WorkloadHandle> StartAsync(string script, long memoryBytes = 256L << 20)
    {
        var assignment = new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "test", Driver = "process", Command = "sh", Args = { "-c", script }, MemoryBytes = memoryBytes,
            Env = { ["GREETING"] = "hello" },
        };
        return await StartAsync(driver, assignment);
    }

    static string Log(WorkloadHandle handle, string stream) => File.ReadAllText(Path.Combine(handle.Folder, $"{stream}.log"));

    [Fact]
    public void The_fingerprint_says_how_it_limits_resources()
    {
        var fingerprint = driver.Fingerprint();
        Assert.True(fingerprint.Available, fingerprint.Reason);
        Assert.Matches("^cgroup v[12]: memory", fingerprint.Attributes["cgroups"]);
        Assert.Equal("cgroups and rlimit", fingerprint.Attributes["limits"]);
        Assert.Contains("uid of its own", fingerprint.Attributes["user"]);
    }

    [Fact]
    public async Task Output_goes_to_the_workloads_log_files_and_the_exit_code_is_kept()
    {
        var handle = await StartAsync("echo \"$GREETING from $WORKLOAD_NAME in $PWD\"; echo oops >&2; exit 3");

        Assert.Equal(3, await driver.WaitAsync(handle, CancellationToken.None));
        Assert.Equal($"hello from test in {handle.Folder}\n", Log(handle, "stdout"));
        Assert.Equal("oops\n", Log(handle, "stderr"));
        Assert.Equal("exited", driver.Inspect(handle));
    }

    [Fact]
    public async Task A_missing_program_exits_127_with_the_reason()
    {
        var assignment = new Assignment { WorkloadId = Guid.NewGuid().ToString(), Name = "missing", Command = "no-such-program-here", MemoryBytes = 64L << 20 };
        var handle = await StartAsync(driver, assignment);

        Assert.Equal(127, await driver.WaitAsync(handle, CancellationToken.None));
        Assert.Contains("'no-such-program-here': No such file or directory", Log(handle, "stderr"));
    }

    [Fact]
    public async Task Stop_sends_SIGTERM_to_the_workload_which_may_exit_cleanly()
    {
        // Repeated: the wrapper once reported its own interrupted wait (143) in about one stop of four.
        for (var i = 0; i < 10; i++)
        {
            var handle = await StartAsync("trap 'echo terminating; exit 0' TERM; echo trapped; while :; do sleep 0.05; done");
            await Eventually.HoldsAsync(() => File.Exists(Path.Combine(handle.Folder, "stdout.log")) && Log(handle, "stdout").Contains("trapped"), "the trap is set"); // a SIGTERM before it would end the shell with 143

            await driver.StopAsync(handle, TimeSpan.FromSeconds(30), CancellationToken.None);

            Assert.Equal(0, await driver.WaitAsync(handle, CancellationToken.None));
            Assert.Contains("terminating", Log(handle, "stdout"));
        }
    }

    [Fact]
    public async Task Stop_kills_a_workload_that_ignores_SIGTERM_once_the_timeout_passes()
    {
        var handle = await StartAsync("trap '' TERM; echo trapped; while :; do sleep 0.05; done");
        await Eventually.HoldsAsync(() => File.Exists(Path.Combine(handle.Folder, "stdout.log")) && Log(handle, "stdout").Contains("trapped"), "the trap is set");

        await driver.StopAsync(handle, TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Equal("exited", driver.Inspect(handle));
        Assert.DoesNotContain(Platform.NodeAgent.Machine.ProcessStat.All(), p => p.Session == handle.Pid && p.State != 'Z'); // zombies wait for init
    }

    [Fact]
    public async Task A_workload_killed_the_moment_it_started_is_gone_even_before_its_session_exists()
    {
        for (var i = 0; i < 20; i++)
        {
            var handle = await StartAsync("exec sleep 600");
            await driver.StopAsync(handle, TimeSpan.Zero, CancellationToken.None);
            Assert.Equal("exited", driver.Inspect(handle));
        }
    }

    [Fact]
    public async Task Pause_stops_every_process_of_the_workload_and_resume_lets_them_run()
    {
        var handle = await StartAsync("while :; do date +%s%N >> ticks; sleep 0.01; done");
        await Eventually.HoldsAsync(() => File.Exists(Path.Combine(handle.Folder, "ticks")), "ticking");

        driver.Signal(handle, Signals.Stop);
        Assert.Equal("paused", driver.Inspect(handle));
        await Task.Delay(50); // a line already being written when the signal came may still land
        var lines = File.ReadAllLines(Path.Combine(handle.Folder, "ticks")).Length;
        await Task.Delay(200);
        Assert.Equal(lines, File.ReadAllLines(Path.Combine(handle.Folder, "ticks")).Length);

        driver.Signal(handle, Signals.Cont);
        Assert.Equal("running", driver.Inspect(handle));
        await Eventually.HoldsAsync(() => File.ReadAllLines(Path.Combine(handle.Folder, "ticks")).Length > lines, "ticking again");
    }

    [Fact]
    public async Task Another_driver_instance_recovers_a_running_workload_and_learns_its_exit_code()
    {
        var handle = await StartAsync("while [ ! -e go ]; do sleep 0.02; done; exit 7");
        var restarted = new ProcessDriver(NullLogger<ProcessDriver>.Instance); // as after an agent restart: not its child

        Assert.True(restarted.Recover(handle));
        Assert.False(restarted.Recover(handle with { StartTicks = handle.StartTicks + 1 }));
        var exit = restarted.WaitAsync(handle, CancellationToken.None);
        File.WriteAllText(Path.Combine(handle.Folder, "go"), "");

        Assert.Equal(7, await exit);
        Assert.False(restarted.Recover(handle));
    }

    [Fact]
    public async Task The_memory_limit_stops_an_allocation_beyond_it()
    {
        var handle = await StartAsync("exec python3 -c 'bytearray(512 * 1024 * 1024)'", memoryBytes: 128L << 20);

        Assert.NotEqual(0, await driver.WaitAsync(handle, CancellationToken.None));
        Assert.Contains("MemoryError", Log(handle, "stderr"));
    }

    [Fact]
    public async Task Stats_add_up_the_cpu_and_memory_of_all_the_workloads_processes()
    {
        var handle = await StartAsync("while :; do :; done");

        await Eventually.HoldsAsync(() => driver.Stats(handle).CpuSeconds > 0.05, "CPU time accrues");
        var usage = driver.Stats(handle);
        Assert.True(usage.RssBytes > 0);
        Assert.True(usage.Processes >= 2); // the wrapper and the loop
    }
}
