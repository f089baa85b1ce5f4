using System.Diagnostics;
using System.Globalization;

namespace Platform.NodeAgent.Drivers;

/// <summary>CRIU could not checkpoint or restore; the message carries CRIU's first error.</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// Checkpoint and restore of a process tree with CRIU, for live migration. The dump goes into an images folder inside
/// the workload's folder, which then travels with it; the tree is killed once dumped (CRIU resumes it when a dump fails).
/// A restore brings the tree back with its pids, detached from the agent. CRIU reopens files by path and returns to the
/// same working directory, so the workload's folder must have the same path on both nodes (agents with the same state
/// directory, as on separate machines).
/// </summary>
public static class CriuCheckpoint
{
    public const string ImagesFolder = ".checkpoint";

    public static async Task DumpAsync(int pid, string imagesDir, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(imagesDir);
        await RunAsync(imagesDir, "dump.log", ["dump", "--tree", pid.ToString(CultureInfo.InvariantCulture), "--images-dir", imagesDir, "--file-locks", "--manage-cgroups=ignore"], cancellationToken);
    }

    /// <summary>Restores the tree dumped in <paramref name="imagesDir"/>; returns the pid of its root.</summary>
    public static async Task<int> RestoreAsync(string imagesDir, CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(imagesDir, "restored.pid");
        await RunAsync(imagesDir, "restore.log", ["restore", "--images-dir", imagesDir, "--restore-detached", "--pidfile", pidFile, "--file-locks", "--manage-cgroups=ignore"], cancellationToken);
        return int.Parse((await File.ReadAllTextAsync(pidFile, cancellationToken)).Trim(), CultureInfo.InvariantCulture);
    }

    static async Task RunAsync(string imagesDir, string log, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("criu") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments.Concat(["--log-file", log, "-v2"])) start.ArgumentList.Add(argument);
        Process criu;
        try
        {
            criu = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CheckpointException("criu is not installed (Debian package criu)");
        }
        using (criu)
        {
            var output = criu.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = criu.StandardError.ReadToEndAsync(cancellationToken);
            await criu.WaitForExitAsync(cancellationToken);
            if (criu.ExitCode == 0) return;
            var logPath = Path.Combine(imagesDir, log);
            var lines = (File.Exists(logPath) ? await File.ReadAllLinesAsync(logPath, cancellationToken) : [])
                .Concat((await errors + await output).Split('\n'));
            var firstError = lines.FirstOrDefault(l => l.Contains("Error", StringComparison.Ordinal)) ?? $"exit code {criu.ExitCode}";
            throw new CheckpointException($"criu {arguments[0]} failed: {firstError.Trim()}");
        }
    }
}
