using Platform.NodeAgent.V1;

namespace Platform.NodeAgent.Migration;

/// <summary>A folder manifest as the receiver's messages carry it, and back — with the checks a received one must pass.</summary>
public static class ManifestMessages
{
    public static IEnumerable<FolderFile> ToMessages(this FolderManifest manifest) => manifest.Files.Select(file =>
    {
        var message = new FolderFile { Path = file.Path, Size = file.Size, Mode = (uint)file.Mode, Sha256 = file.Sha256 };
        message.BlockHashes.AddRange(file.Blocks.Select(b => b.Hash));
        message.BlockLengths.AddRange(file.Blocks.Select(b => b.Length));
        return message;
    });

    /// <summary>The manifest, or the reason it cannot be one: paths must stay inside the folder, hashes be SHA-256 hex.</summary>
    public static (FolderManifest? Manifest, string Error) FromMessages(IEnumerable<FolderFile> files)
    {
        var entries = new List<FileEntry>();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!IsInsideFolder(file.Path)) return (null, $"files: '{file.Path}' is not a relative path inside the folder");
            if (!IsHash(file.Sha256) || !file.BlockHashes.All(IsHash)) return (null, $"files: '{file.Path}' has a hash that is not SHA-256 hex");
            if (file.BlockHashes.Count != file.BlockLengths.Count || file.BlockLengths.Any(l => l <= 0) || file.BlockLengths.Sum(l => (long)l) != file.Size)
                return (null, $"files: the blocks of '{file.Path}' do not add up to its size");
            if (file.BlockLengths.Any(l => l > BlockStoreReceiver.MaxBlockSize))
                return (null, $"files: '{file.Path}' has a block longer than {BlockStoreReceiver.MaxBlockSize} bytes");
            // Each path names one file, and no file is another's folder.
            if (!paths.Add(file.Path) || folders.Contains(file.Path))
                return (null, $"files: '{file.Path}' is named twice, or is also a folder of another file");
            for (var slash = file.Path.IndexOf('/'); slash > 0; slash = file.Path.IndexOf('/', slash + 1))
            {
                folders.Add(file.Path[..slash]);
                if (paths.Contains(file.Path[..slash]))
                    return (null, $"files: '{file.Path[..slash]}' is both a file and the folder of '{file.Path}'");
            }
            entries.Add(new FileEntry(file.Path, file.Size, (UnixFileMode)file.Mode & (UnixFileMode)0x1FF, file.Sha256,
                [.. file.BlockHashes.Zip(file.BlockLengths, (hash, length) => new BlockRef(hash, length))]));
        }
        return (new FolderManifest(entries), "");
    }

    public static bool IsHash(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);

    static bool IsInsideFolder(string path) =>
        path.Length is > 0 and <= 4096 && !Path.IsPathRooted(path) && !path.Split('/').Any(segment => segment is "" or "." or "..");
}
