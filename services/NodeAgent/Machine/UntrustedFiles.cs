using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Platform.NodeAgent.Machine;

/// <summary>A path in a workload's folder that is not a regular file the agent may read (a symlink, FIFO, device, directory).</summary>
public sealed class UntrustedFileException(string path, string why) : IOException($"{System.IO.Path.GetFileName(path)} {why}")
{
    public string Path { get; } = path;
}

/// <summary>
/// Opens files a workload could have written — its logs, its exit code, the files of its folder a migration sends —
/// the way a hostile folder cannot exploit: the last component is never followed if it is a symlink (<c>O_NOFOLLOW</c>),
/// the open never blocks on a FIFO (<c>O_NONBLOCK</c>), and what was opened must be a regular file (<c>statx</c> on the
/// open descriptor, so it cannot be swapped between the check and the read).
/// </summary>
public static partial class UntrustedFiles
{
    const int ReadOnly = 0, NonBlocking = 0x800, CloseOnExec = 0x80000, EmptyPathFlag = 0x1000, Eloop = 40, Enoent = 2;
    const uint StatxType = 1;
    const ushort TypeMask = 0xF000, RegularFile = 0x8000;

    // O_NOFOLLOW is 0400000 on x86-64 and 0100000 on the generic ABI arm64 uses.
    static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>A stream over the regular file at <paramref name="path"/>, or <see cref="UntrustedFileException"/>; null when there is none.</summary>
    public static FileStream? OpenRead(string path)
    {
        var fd = Open(path, ReadOnly | NonBlocking | CloseOnExec | NoFollow);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            if (error == Enoent) return null;
            throw error == Eloop ? new UntrustedFileException(path, "is a symbolic link") : new UntrustedFileException(path, $"cannot be opened (errno {error})");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (TypeOf(handle) != RegularFile) throw new UntrustedFileException(path, "is not a regular file");
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The whole text of a small regular file (at most <paramref name="maxBytes"/>), null when there is none.</summary>
    public static string? ReadAllText(string path, int maxBytes = 4096)
    {
        using var stream = OpenRead(path);
        if (stream is null) return null;
        var buffer = new byte[maxBytes];
        var read = stream.ReadAtLeast(buffer, maxBytes, throwOnEndOfStream: false);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>The uid owning <paramref name="path"/> itself (a link's own, not its target's).</summary>
    public static unsafe uint OwnerOf(string path)
    {
        const int CurrentDirectory = -100, SymlinkNoFollow = 0x100;
        const uint StatxUid = 0x8;
        var buffer = stackalloc byte[256]; // struct statx; stx_uid is the u32 at offset 20
        if (Statx(CurrentDirectory, path, SymlinkNoFollow, StatxUid, buffer) != 0)
            throw new IOException($"statx of {path} failed (errno {Marshal.GetLastPInvokeError()})");
        return *(uint*)(buffer + 20);
    }

    static unsafe ushort TypeOf(SafeFileHandle handle)
    {
        var buffer = stackalloc byte[256]; // struct statx; stx_mode is the u16 at offset 28 on every architecture
        if (Statx((int)handle.DangerousGetHandle(), "", EmptyPathFlag, StatxType, buffer) != 0)
            throw new IOException($"statx failed (errno {Marshal.GetLastPInvokeError()})");
        return (ushort)(*(ushort*)(buffer + 28) & TypeMask);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
