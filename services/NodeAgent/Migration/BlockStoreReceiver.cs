using System.Security.Cryptography;
using ZstdSharp;

namespace Platform.NodeAgent.Migration;

/// <summary>A corrupt block or file: its content does not match its hash.</summary>
public sealed class TransferIntegrityException(string message) : Exception(message);

/// <summary>
/// The target's side: verified blocks kept by hash in a block store (they survive a dropped connection and serve the
/// next round), and the folder built from them on commit, each file checked against its SHA-256 and moved into place
/// whole; files the manifest no longer has are removed.
/// </summary>
public sealed class BlockStoreReceiver(string blockStore, string destination) : IBlockReceiver
{
    string BlockPath(string hash) => Path.Combine(blockStore, hash);

    public Task<IReadOnlySet<string>> MissingAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(blockStore);
        return Task.FromResult<IReadOnlySet<string>>(hashes.Where(h => !File.Exists(BlockPath(h))).ToHashSet());
    }

    public async Task PutAsync(string hash, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken)
    {
        using var decompressor = new Decompressor();
        var block = decompressor.Unwrap(compressed.Span).ToArray();
        if (Convert.ToHexStringLower(SHA256.HashData(block)) != hash)
            throw new TransferIntegrityException($"block {hash} does not match its SHA-256");
        var path = BlockPath(hash);
        await File.WriteAllBytesAsync(path + ".tmp", block, cancellationToken);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public async Task CommitAsync(FolderManifest manifest, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in manifest.Files)
        {
            var target = Path.Combine(destination, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var output = new FileStream(target + ".tmp", FileMode.Create, FileAccess.Write))
            {
                foreach (var block in file.Blocks)
                {
                    var bytes = await File.ReadAllBytesAsync(BlockPath(block.Hash), cancellationToken);
                    hash.AppendData(bytes);
                    await output.WriteAsync(bytes, cancellationToken);
                }
            }
            if (Convert.ToHexStringLower(hash.GetHashAndReset()) != file.Sha256)
                throw new TransferIntegrityException($"{file.Path} does not match its SHA-256");
            File.SetUnixFileMode(target + ".tmp", file.Mode);
            File.Move(target + ".tmp", target, overwrite: true);
        }
        var kept = manifest.Files.Select(f => Path.GetFullPath(Path.Combine(destination, f.Path))).ToHashSet();
        foreach (var stale in Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories).Where(p => !kept.Contains(Path.GetFullPath(p))))
            File.Delete(stale);
    }
}
