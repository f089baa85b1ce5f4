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
        foreach (var file in files)
        {
            if (!IsInsideFolder(file.Path)) return (null, $"files: '{file.Path}' is not a relative path inside the folder");
            if (!IsHash(file.Sha256) || !file.BlockHashes.All(IsHash)) return (null, $"files: '{file.Path}' has a hash that is not SHA-256 hex");
            if (file.BlockHashes.Count != file.BlockLengths.Count || file.BlockLengths.Any(l => l <= 0) || file.BlockLengths.Sum(l => (long)l) != file.Size)
                return (null, $"files: the blocks of '{file.Path}' do not add up to its size");
            entries.Add(new FileEntry(file.Path, file.Size, (UnixFileMode)file.Mode & (UnixFileMode)0x1FF, file.Sha256,
                [.. file.BlockHashes.Zip(file.BlockLengths, (hash, length) => new BlockRef(hash, length))]));
        }
        return (new FolderManifest(entries), "");
    }

    public static bool IsHash(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);

    static bool IsInsideFolder(string path) =>
        path.Length is > 0 and <= 4096 && !Path.IsPathRooted(path) && !path.Split('/').Any(segment => segment is "" or "." or "..");
}
