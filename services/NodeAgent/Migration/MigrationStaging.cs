using Platform.NodeAgent.Identity;

namespace Platform.NodeAgent.Migration;

/// <summary>
/// Where a migration's incoming data waits on the target: <c>migrations/{id}/blocks</c> (verified blocks by hash) and
/// <c>migrations/{id}/folder</c> (the committed folder), until Compute assigns the workload here and the supervisor
/// adopts the folder as the workload's own, or the source discards it.
/// </summary>
public sealed class MigrationStaging(NodeIdentity identity, ILogger<MigrationStaging> logger)
{
    /// <summary>Staging left behind (a source that vanished without discarding) is removed after this long.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromDays(1);

    string Root => Path.Combine(identity.StateDirectory, "migrations");

    string Folder(Guid migrationId) => Path.Combine(Root, migrationId.ToString());

    public BlockStoreReceiver Receiver(Guid migrationId) =>
        new(Path.Combine(Folder(migrationId), "blocks"), Path.Combine(Folder(migrationId), "folder"));

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
    }

    /// <summary>Removes staging older than <see cref="StaleAfter"/>.</summary>
    public void RemoveStale(DateTimeOffset now)
    {
        if (!Directory.Exists(Root)) return;
        foreach (var folder in Directory.EnumerateDirectories(Root).Where(f => Directory.GetLastWriteTimeUtc(f) < now.UtcDateTime - StaleAfter))
        {
            logger.LogInformation("Removing migration staging {Folder}: untouched for {StaleAfter}", folder, StaleAfter);
            Directory.Delete(folder, recursive: true);
        }
    }
}
