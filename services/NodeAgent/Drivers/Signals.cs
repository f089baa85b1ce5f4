using System.Runtime.InteropServices;

namespace Platform.NodeAgent.Drivers;

/// <summary>POSIX signals sent with kill(2): to one process, or to a whole process group with a negative pid.</summary>
public static partial class Signals
{
    public const int Kill = 9, Term = 15, Cont = 18, Stop = 19;

    /// <summary>
    /// Sends the signal; false when no such process (group) exists any more. 0 and -1 are refused: kill(2) would
    /// signal the agent's own process group or every process it may signal.
    /// </summary>
    public static bool Send(int pid, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(pid, 0);
        ArgumentOutOfRangeException.ThrowIfEqual(pid, -1);
        return kill(pid, signal) == 0;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
