using System.Runtime.InteropServices;

namespace Platform.NodeAgent.Workloads;

/// <summary>POSIX signals sent with kill(2): to one process, or to a whole process group with a negative pid.</summary>
public static partial class Signals
{
    public const int Kill = 9, Term = 15, Cont = 18, Stop = 19;

    /// <summary>Sends the signal; false when no such process (group) exists any more.</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
