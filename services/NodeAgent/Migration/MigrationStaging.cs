using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.NodeAgent.Identity;

namespace Platform.NodeAgent.Migration;

/// <summary>Configuration under <c>NodeAgent:Migration</c>: what one incoming migration, and all of them, may take here.</summary>
public sealed class MigrationStagingOptions
{
    /// <summary>Bytes of blocks, and of the folder a commit declares, one migration may bring.</summary>
    public long MaxBytesPerMigration { get; set; } = 64L << 30;

    public int MaxFilesPerMigration { get; set; } = 100_000;

    /// <summary>Bytes of blocks all incoming migrations together may hold in this node's staging.</summary>
    public long QuotaBytes { get; set; } = 128L << 30;
}

/// <summary>
/// Where a migration's incoming data waits on the target: <c>migrations/{id}/blocks</c> (verified blocks by hash) and
/// <c>migrations/{id}/folder</c> (the committed folder), until Compute assigns the workload here and the supervisor
/// adopts the folder as the workload's own, or the source discards it.
/// </summary>
public sealed class MigrationStaging(NodeIdentity identity, IOptions<MigrationStagingOptions> options, ILogger<MigrationStaging> logger)
{
    readonly Lock gate = new();
    Dictionary<Guid, long>? held; // block bytes per migration, measured from disk at first use
    readonly ConcurrentDictionary<Guid, SemaphoreSlim> commitGates = new();

    /// <summary>
    /// Counts <paramref name="bytes"/> of a block against the migration's and the node's limits before it is written;
    /// over either, RESOURCE_EXHAUSTED and nothing is written.
    /// </summary>
    public void Reserve(Guid migrationId, long bytes)
    {
        lock (gate)
        {
            held ??= Measure();
            var mine = held.GetValueOrDefault(migrationId);
            if (mine + bytes > options.Value.MaxBytesPerMigration)
                throw Exhausted($"migration {migrationId} may bring at most {options.Value.MaxBytesPerMigration} bytes to this node");
            if (held.Values.Sum() + bytes > options.Value.QuotaBytes)
                throw Exhausted($"this node's migration staging is full ({options.Value.QuotaBytes} bytes)");
            held[migrationId] = mine + bytes;
        }
    }

    /// <summary>
    /// Refuses a commit after which the folder would be larger, or hold more files, than one migration may bring
    /// (<see cref="BlockStoreReceiver.AfterCommit"/>: partial commits' earlier files included).
    /// </summary>
    public void CheckFolder((int Files, long Bytes) after)
    {
        if (after.Files > options.Value.MaxFilesPerMigration)
            throw Exhausted($"a migrated folder may hold at most {options.Value.MaxFilesPerMigration} files; this one would hold {after.Files}");
        if (after.Bytes > options.Value.MaxBytesPerMigration)
            throw Exhausted($"a migrated folder may hold at most {options.Value.MaxBytesPerMigration} bytes; this one would hold {after.Bytes}");
    }

    /// <summary>One commit at a time per migration: two at once would both pass the caps on the same folder.</summary>
    public async Task<IDisposable> CommitLockAsync(Guid migrationId, CancellationToken cancellationToken)
    {
        var gate = commitGates.GetOrAdd(migrationId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    static RpcException Exhausted(string message) => new(new Status(StatusCode.ResourceExhausted, message));

    Dictionary<Guid, long> Measure()
    {
        var measured = new Dictionary<Guid, long>();
        if (!Directory.Exists(Root)) return measured;
        foreach (var folder in Directory.EnumerateDirectories(Root))
            if (Guid.TryParse(Path.GetFileName(folder), out var id) && Directory.Exists(Path.Combine(folder, "blocks")))
                measured[id] = new DirectoryInfo(Path.Combine(folder, "blocks")).EnumerateFiles().Sum(f => f.Length);
        return measured;
    }

    void Release(Guid migrationId)
    {
        lock (gate) held?.Remove(migrationId);
        commitGates.TryRemove(migrationId, out _);
    }

    /// <summary>Staging left behind (a source that vanished without discarding) is removed after this long.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromDays(1);

    string Root => Path.Combine(identity.StateDirectory, "migrations");

    string Folder(Guid migrationId) => Path.Combine(Root, migrationId.ToString());

    public BlockStoreReceiver Receiver(Guid migrationId)
    {
        // Root only: what migrates in is another tenant's data, and the agent's state folder lets workloads pass through.
        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new(Path.Combine(Folder(migrationId), "blocks"), Path.Combine(Folder(migrationId), "folder"));
    }

    /// <summary>
    /// Makes the migration's committed folder the workload's folder (a rename, so it is whole or not there); true when
    /// there was one. Nothing to adopt is not an error: a retried pass may have adopted it already.
    /// </summary>
    public bool Adopt(Guid migrationId, string workloadFolder)
    {
        var committed = Path.Combine(Folder(migrationId), "folder");
        if (!Directory.Exists(committed)) return false;
        if (Directory.Exists(workloadFolder)) Directory.Delete(workloadFolder, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(workloadFolder)!);
        Directory.Move(committed, workloadFolder);
        Discard(migrationId);
        logger.LogInformation("Adopted the folder of migration {MigrationId} as {WorkloadFolder}", migrationId, workloadFolder);
        return true;
    }

    public void Discard(Guid migrationId)
    {
        if (Directory.Exists(Folder(migrationId))) Directory.Delete(Folder(migrationId), recursive: true);
        Release(migrationId);
    }

    /// <summary>Removes staging older than <see cref="StaleAfter"/>.</summary>
    public void RemoveStale(DateTimeOffset now)
    {
        if (!Directory.Exists(Root)) return;
        foreach (var folder in Directory.EnumerateDirectories(Root).Where(f => Directory.GetLastWriteTimeUtc(f) < now.UtcDateTime - StaleAfter))
        {
            logger.LogInformation("Removing migration staging {Folder}: untouched for {StaleAfter}", folder, StaleAfter);
            Directory.Delete(folder, recursive: true);
            if (Guid.TryParse(Path.GetFileName(folder), out var id)) Release(id);
        }
    }
}
