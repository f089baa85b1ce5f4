using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.NodeAgent.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Migration;

/// <summary>
/// The target's end of a migration, called by the source node's agent with its agent token: every call is checked
/// against Compute's word on the migration (<see cref="IncomingMigrations"/>) before anything is read or written.
/// </summary>
public sealed class MigrationReceiverService(MigrationStaging staging, IncomingMigrations incoming) : MigrationReceiver.MigrationReceiverBase
{
    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<FindMissingBlocksResponse> FindMissingBlocks(FindMissingBlocksRequest request, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        await incoming.EnsureSenderAsync(migrationId, context.GetHttpContext().User, context.CancellationToken);
        new RequestValidation().Require(request.Hashes.All(ManifestMessages.IsHash), "hashes", "must be SHA-256 in lowercase hex").ThrowIfInvalid();
        var response = new FindMissingBlocksResponse();
        response.Missing.AddRange(await staging.Receiver(migrationId).MissingAsync(request.Hashes, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<PutBlockResponse> PutBlock(PutBlockRequest request, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        await incoming.EnsureSenderAsync(migrationId, context.GetHttpContext().User, context.CancellationToken);
        new RequestValidation().Require(ManifestMessages.IsHash(request.Hash), "hash", "must be SHA-256 in lowercase hex").ThrowIfInvalid();
        var receiver = staging.Receiver(migrationId);
        // A block already held costs nothing again (a resend after a dropped connection).
        if (receiver.Has(request.Hash)) return new PutBlockResponse();
        staging.Reserve(migrationId, Verified(() => BlockStoreReceiver.DeclaredSize(request.Hash, request.Compressed.Span)));
        await Verified(() => receiver.PutAsync(request.Hash, request.Compressed.Memory, context.CancellationToken));
        return new PutBlockResponse();
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<CommitFolderResponse> CommitFolder(CommitFolderRequest request, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        await incoming.EnsureSenderAsync(migrationId, context.GetHttpContext().User, context.CancellationToken);
        var (manifest, error) = ManifestMessages.FromMessages(request.Files);
        if (manifest is null) throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        var receiver = staging.Receiver(migrationId);
        using var _ = await staging.CommitLockAsync(migrationId, context.CancellationToken);
        staging.CheckFolder(receiver.AfterCommit(manifest, request.Partial));
        await Verified(() => receiver.CommitAsync(manifest, request.Partial, context.CancellationToken));
        return new CommitFolderResponse();
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<DiscardMigrationResponse> DiscardMigration(DiscardMigrationRequest request, ServerCallContext context)
    {
        var migrationId = RequestValidation.RequireGuid(request.MigrationId, "migration_id");
        // A finished migration's sender may still tidy up: discarding needs only that it was the sender.
        await incoming.EnsureSenderAsync(migrationId, context.GetHttpContext().User, context.CancellationToken, writing: false);
        staging.Discard(migrationId);
        return new DiscardMigrationResponse();
    }

    static T Verified<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (TransferIntegrityException ex)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, ex.Message));
        }
    }

    /// <summary>Corrupt data is the sender's problem (DataLoss); a missing block means the sender skipped one (FailedPrecondition).</summary>
    static async Task Verified(Func<Task> receive)
    {
        try
        {
            await receive();
        }
        catch (TransferIntegrityException ex)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, ex.Message));
        }
        catch (FileNotFoundException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"a block the folder needs was never sent: {Path.GetFileName(ex.FileName)}"));
        }
        catch (ZstdSharp.ZstdException ex)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, $"a block is not valid zstd: {ex.Message}"));
        }
    }
}
