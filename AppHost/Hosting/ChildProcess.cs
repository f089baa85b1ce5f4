using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Platform.AppHost.Hosting;

/// <summary>
/// A process the AppHost started: its output goes to the console under the resource's name (the last lines are kept
/// for error reports), and it is stopped with a signal first and killed only if it does not exit in time.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    const int KeptLines = 40;
    readonly Process process;
    readonly Queue<string> lastLines = new();
    readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    ChildProcess(Process process) => this.process = process;

    public int Id => process.Id;
    public Task<int> Exited => exited.Task;

    /// <summary>
    /// Starts the process in a session of its own (<c>setsid</c> execs in place, so the PID is the program's): a Ctrl+C
    /// in the terminal, or a signal to the AppHost's process group, reaches only the AppHost, which then stops its
    /// children in order instead of having them all die at once.
    /// </summary>
    public static ChildProcess Start(string resource, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, ResourceConsole console,
        string? workingDirectory = null, bool inheritEnvironment = true)
    {
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        info.ArgumentList.Add(fileName);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (!inheritEnvironment) info.Environment.Clear();
        foreach (var (key, value) in environment) info.Environment[key] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(resource, e.Data, console);
        process.ErrorDataReceived += (_, e) => child.OnLine(resource, e.Data, console);
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // drains the redirected output before reporting the exit
            child.exited.TrySetResult(process.ExitCode);
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new AppHostException($"{resource}: cannot start {fileName}: {ex.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    public string LastLines()
    {
        lock (lastLines) return string.Join(Environment.NewLine, lastLines);
    }

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="grace"/>, then kills the process tree.</summary>
    public async Task StopAsync(int signal, TimeSpan grace)
    {
        if (exited.Task.IsCompleted) return;
        SendSignal(process.Id, signal);
        if (await Task.WhenAny(exited.Task, Task.Delay(grace)) != exited.Task)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* exited meanwhile */ }
            await exited.Task;
        }
    }

    void OnLine(string resource, string? line, ResourceConsole console)
    {
        if (line is null) return;
        lock (lastLines)
        {
            lastLines.Enqueue(line);
            if (lastLines.Count > KeptLines) lastLines.Dequeue();
        }
        console.Line(resource, line);
    }

    public void Dispose() => process.Dispose();

    public const int SIGINT = 2, SIGKILL = 9, SIGTERM = 15;

    public static bool IsAlive(int pid) => Kill(pid, 0) == 0;

    public static void SendSignal(int pid, int signal) => _ = Kill(pid, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
