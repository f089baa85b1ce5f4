using System.Diagnostics;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// Whether CRIU can checkpoint and restore processes on this machine: <c>criu check</c>, run once. Its answer goes into
/// the process drivers' fingerprint as <c>live_migration</c>, which Compute reads before it accepts a live migration.
/// </summary>
public static class CriuProbe
{
    static readonly Lazy<string> result = new(Probe);

    /// <summary><c>criu</c> when live migration works here, otherwise <c>unavailable: </c> and the reason.</summary>
    public static string LiveMigration => result.Value;

    static string Probe()
    {
        try
        {
            using var check = Process.Start(new ProcessStartInfo("criu", "check") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            var errors = check.StandardError.ReadToEndAsync();
            check.StandardOutput.ReadToEnd();
            if (!check.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                check.Kill();
                return "unavailable: criu check did not finish in 30 s";
            }
            if (check.ExitCode != 0)
            {
                var firstError = errors.Result.Split('\n').FirstOrDefault(l => l.Contains("Error", StringComparison.Ordinal) && !l.Contains("exited, status", StringComparison.Ordinal))
                    ?? $"exit code {check.ExitCode}";
                return $"unavailable: criu check fails on this kernel ({firstError.Trim()})";
            }
            return "criu";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unavailable: criu is not installed (Debian package criu)";
        }
    }
}
