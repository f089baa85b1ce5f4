using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Platform.NodeBench;

/// <summary>
/// The disk under the workload's folder: a 128 MiB file written sequentially and synced, read back sequentially, then
/// 4 KiB writes at random offsets, each synced, and 4 KiB reads at random offsets, for two seconds each. The file is
/// dropped from the page cache (posix_fadvise DONTNEED) before each read, so reads come from the device where the
/// filesystem has one (on tmpfs every figure is memory's, and the method says so).
/// </summary>
static partial class DiskBench
{
    const int FileBytes = 128 << 20;
    const int Block = 4096;

    public static IEnumerable<BenchResult> Run(string folder)
    {
        var path = Path.Combine(folder, "disk-bench.tmp");
        var filesystem = Filesystem(folder);
        try
        {
            var chunk = new byte[1 << 20];
            Random.Shared.NextBytes(chunk);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0))
            {
                for (var written = 0; written < FileBytes; written += chunk.Length) file.Write(chunk);
                file.Flush(flushToDisk: true);
            }
            var writeSeconds = clock.Elapsed.TotalSeconds;

            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            DropCache(handle);
            clock.Restart();
            for (long offset = 0; offset < FileBytes; offset += chunk.Length) RandomAccess.Read(handle, chunk, offset);
            var readSeconds = clock.Elapsed.TotalSeconds;

            var block = new byte[Block];
            var (writes, randomWriteSeconds) = Timed.Repeat(TimeSpan.FromSeconds(2), () =>
            {
                RandomAccess.Write(handle, block, RandomBlock());
                RandomAccess.FlushToDisk(handle);
                return 1;
            });
            DropCache(handle);
            var (reads, randomReadSeconds) = Timed.Repeat(TimeSpan.FromSeconds(2), () =>
            {
                RandomAccess.Read(handle, block, RandomBlock());
                return 1;
            });
            var on = $"on {filesystem}";
            return
            [
                new("disk_seq_write", FileBytes / writeSeconds, "bytes_per_second", $"128 MiB in 1 MiB writes, then fsync, {on}"),
                new("disk_seq_read", FileBytes / readSeconds, "bytes_per_second", $"the same file read in 1 MiB reads after dropping it from the page cache, {on}"),
                new("disk_random_write", writes / randomWriteSeconds, "iops", $"4 KiB writes at random offsets, each followed by fsync, for 2 s, {on}"),
                new("disk_random_read", reads / randomReadSeconds, "iops", $"4 KiB reads at random offsets after dropping the file from the page cache, for 2 s, {on}"),
            ];
        }
        finally
        {
            File.Delete(path);
        }
    }

    static long RandomBlock() => Random.Shared.NextInt64(FileBytes / Block) * Block;

    static void DropCache(SafeFileHandle handle)
    {
        RandomAccess.FlushToDisk(handle);
        _ = PosixFadvise((int)handle.DangerousGetHandle(), 0, 0, 4); // POSIX_FADV_DONTNEED; advice, so a failure only means a warmer cache
    }

    static string Filesystem(string folder)
    {
        try
        {
            return new DriveInfo(folder).DriveFormat;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return "an unknown filesystem";
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);
}
