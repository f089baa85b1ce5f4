using System.Security.Cryptography;
using Platform.NodeAgent.Machine;

namespace Platform.NodeAgent.Migration;

/// <summary>A block of a file: its SHA-256 (hex) and length. Equal content, equal hash: blocks are shared by hash.</summary>
public sealed record BlockRef(string Hash, int Length);

/// <summary>A file of the folder: its path relative to the folder, size, mode, whole-file SHA-256 and blocks in order.</summary>
public sealed record FileEntry(string Path, long Size, UnixFileMode Mode, string Sha256, IReadOnlyList<BlockRef> Blocks);

/// <summary>
/// What a folder holds, as fixed-size blocks named by their SHA-256: the unit of a delta transfer (a receiver asks only
/// for the blocks it lacks) and of verification (every block and every whole file is checked by its hash).
/// </summary>
public sealed record FolderManifest(IReadOnlyList<FileEntry> Files)
{
    public const int DefaultBlockSize = 1 << 20;

    public long TotalBytes => Files.Sum(f => f.Size);

    /// <summary>Reads the folder's regular files; <paramref name="include"/> (relative paths) leaves out files that are not to travel.</summary>
    public static FolderManifest Build(string folder, int blockSize = DefaultBlockSize, Func<string, bool>? include = null)
    {
        var files = new List<FileEntry>();
        var buffer = new byte[blockSize];
        foreach (var path in Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Order(StringComparer.Ordinal))
        {
            if (include is not null && !include(Path.GetRelativePath(folder, path))) continue;
            FileStream? opened;
            try
            {
                // Only regular files travel: a symlink, FIFO or device the workload made is left behind, never followed.
                opened = UntrustedFiles.OpenRead(path);
            }
            catch (Exception ex) when (ex is DirectoryNotFoundException or UntrustedFileException)
            {
                continue;
            }
            if (opened is not { } stream) continue; // removed since the folder was listed (a running workload's temporary file)
            using var _ = stream;
            using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var blocks = new List<BlockRef>();
            int read;
            long size = 0; // what was read: a file a running workload appends to grows while it is read
            while ((read = stream.ReadAtLeast(buffer, blockSize, throwOnEndOfStream: false)) > 0)
            {
                whole.AppendData(buffer, 0, read);
                blocks.Add(new BlockRef(Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read))), read));
                size += read;
            }
            files.Add(new FileEntry(Path.GetRelativePath(folder, path), size, File.GetUnixFileMode(stream.SafeFileHandle), Convert.ToHexStringLower(whole.GetHashAndReset()), blocks));
        }
        return new FolderManifest(files);
    }
}
