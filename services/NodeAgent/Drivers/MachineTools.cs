namespace Platform.NodeAgent.Drivers;

/// <summary>The programs the drivers run, found on the agent's PATH.</summary>
public static class MachineTools
{
    /// <summary>The full path of <paramref name="tool"/> on the agent's PATH, or null when it is not installed.</summary>
    public static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
}
