using System.Collections.Concurrent;
using System.Security.Claims;
using Grpc.Core;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;
using Platform.ServiceDefaults.Auth;

namespace Platform.NodeAgent.Migration;

/// <summary>
/// Who may write a migration's data here: only the agent of the node Compute says sends it, and only while Compute
/// says the migration is unfinished and targets this node (its answer is the sender's capability). Answers are kept
/// for a few seconds — a migration's blocks come in their thousands — so a migration that ends stops being writable
/// within that time.
/// </summary>
public sealed class IncomingMigrations(WorkloadAssignments.WorkloadAssignmentsClient compute, NodeIdentity identity, TimeProvider clock)
{
    static readonly TimeSpan KeepAnswerFor = TimeSpan.FromSeconds(5);
    readonly ConcurrentDictionary<Guid, (string? Source, bool Finished, DateTimeOffset Until)> answers = new();

    /// <summary>
    /// Throws PERMISSION_DENIED unless <paramref name="caller"/> is the agent sending migration <paramref name="migrationId"/>
    /// here and — <paramref name="writing"/> — the migration is unfinished (its sender may discard what it sent at any time).
    /// </summary>
    public async Task EnsureSenderAsync(Guid migrationId, ClaimsPrincipal caller, CancellationToken cancellationToken, bool writing = true)
    {
        var (source, finished) = await SourceAsync(migrationId, cancellationToken);
        if (source is null)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Migration {migrationId} does not target this node."));
        if (writing && finished)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Migration {migrationId} is finished: nothing more is written for it."));
        if (!caller.IsInRole("agent") || !Callers.ActsFor(caller, source))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Only the agent of node {source} sends migration {migrationId}; this token is {Callers.Name(caller)}'s."));
    }

    async Task<(string? Source, bool Finished)> SourceAsync(Guid migrationId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (answers.TryGetValue(migrationId, out var known) && now < known.Until) return (known.Source, known.Finished);
        (string? Source, bool Finished) answer;
        try
        {
            var incoming = await compute.GetIncomingMigrationAsync(
                new GetIncomingMigrationRequest { NodeId = identity.NodeId.ToString(), MigrationId = migrationId.ToString() },
                deadline: Platform.ServiceDefaults.Grpc.CallDeadlines.FromNow(), cancellationToken: cancellationToken);
            answer = (incoming.SourceNodeName, incoming.Finished);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            answer = (null, true);
        }
        catch (RpcException ex)
        {
            // Compute cannot say: the sender is told to retry, nothing is written meanwhile.
            throw new RpcException(new Status(StatusCode.Unavailable, $"Compute could not confirm migration {migrationId}: {ex.Status.Detail}"));
        }
        if (answers.Count > 10_000) answers.Clear();
        answers[migrationId] = (answer.Source, answer.Finished, now + KeepAnswerFor);
        return answer;
    }
}
