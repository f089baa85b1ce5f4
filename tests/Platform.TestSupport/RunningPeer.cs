using System.Diagnostics;

namespace Platform.TestSupport;

/// <summary>A program from Debian's packages, started for one test and killed when it is disposed.</summary>
public sealed class RunningPeer : IDisposable
{
    readonly Process process;
    readonly System.Text.StringBuilder output = new();

    public RunningPeer(string program, string[] arguments)
    {
        var path = new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" }.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"{program} is not installed: apt-get install {program} (.ci/run installs it)");
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (output) return output.ToString(); } }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }
}
