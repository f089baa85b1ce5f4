using Npgsql;
using Platform.ServiceDefaults.Auth;
using StackExchange.Redis;

namespace Platform.Compute.Nodes;

/// <summary>
/// Compute decides which nodes are rejected, so it keeps the platform's list of revoked agents: a rejection adds the
/// node's name, an admission removes it. The list is made to match the database at start and again each time the
/// connection to Redis comes back (a Redis that restarted has lost it), until a rebuild succeeds. A Redis that cannot
/// be reached does not undo a rejection: Compute refuses the node itself.
/// </summary>
public sealed class NodeRevocations(AgentRevocations revocations, NodeStore nodes, IConnectionMultiplexer redis, ILogger<NodeRevocations> logger)
    : BackgroundService
{
    static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(5);
    readonly SemaphoreSlim rebuildNeeded = new(1, 1);

    public async Task AdmissionChangedAsync(NodeRecord node)
    {
        try
        {
            if (node.Admission == NodeAdmissions.Rejected) await revocations.RevokeAsync(node.Name);
            else await revocations.RestoreAsync(node.Name);
        }
        catch (RedisException ex)
        {
            logger.LogError(ex, "Node {NodeName} is {Admission}, but the revocation list could not be updated; it will be when Redis is back", node.Name, node.Admission);
        }
        // A rebuild that read the nodes before this change may write after it: one more pass reads it back.
        RequestRebuild();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await rebuildNeeded.WaitAsync(stoppingToken);
                while (!await TryRebuildAsync(stoppingToken)) await Task.Delay(RetryEvery, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive) RequestRebuild();
    }

    /// <summary>Wakes the rebuild loop; requests made while one is pending or running collapse into one more pass.</summary>
    void RequestRebuild()
    {
        if (rebuildNeeded.CurrentCount == 0) rebuildNeeded.Release();
    }

    async Task<bool> TryRebuildAsync(CancellationToken cancellationToken)
    {
        try
        {
            var all = await nodes.ListAsync(cancellationToken);
            foreach (var node in all)
            {
                if (node.Admission == NodeAdmissions.Rejected) await revocations.RevokeAsync(node.Name);
                else await revocations.RestoreAsync(node.Name);
            }
            logger.LogInformation("Revocation list rebuilt from {Count} nodes", all.Count);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or NpgsqlException)
        {
            logger.LogWarning("The revocation list could not be rebuilt yet: {Reason}", ex.Message);
            return false;
        }
    }
}
