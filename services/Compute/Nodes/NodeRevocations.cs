using System.Threading.Channels;
using Platform.ServiceDefaults.Auth;
using StackExchange.Redis;

namespace Platform.Compute.Nodes;

/// <summary>
/// Compute decides which nodes are rejected, so it keeps the platform's list of revoked agents: a rejection adds the
/// node's name at once, an admission removes it. The whole list is made to match the database at start, each time
/// the connection to Redis comes back (a Redis that restarted has lost it), after every admission change, and every
/// minute (a key flushed or evicted under a live connection); a rebuild that fails is retried until one succeeds. A
/// Redis that cannot be reached does not undo a rejection: Compute refuses the node itself.
/// </summary>
public sealed class NodeRevocations(AgentRevocations revocations, NodeStore nodes, IConnectionMultiplexer redis, ILogger<NodeRevocations> logger)
    : BackgroundService
{
    static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(5);
    static readonly TimeSpan RebuildEvery = TimeSpan.FromMinutes(1);
    // One pending request at most: requests made while one waits or a rebuild runs collapse into one more pass.
    readonly Channel<bool> rebuildNeeded = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public async Task AdmissionChangedAsync(NodeRecord node)
    {
        try
        {
            if (node.Admission == NodeAdmissions.Rejected) await revocations.RevokeAsync(node.Name);
            else await revocations.RestoreAsync(node.Name);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
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
            RequestRebuild();
            while (!stoppingToken.IsCancellationRequested)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    wait.CancelAfter(RebuildEvery);
                    try { await rebuildNeeded.Reader.ReadAsync(wait.Token); }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested) { }
                }
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

    void RequestRebuild() => rebuildNeeded.Writer.TryWrite(true);

    async Task<bool> TryRebuildAsync(CancellationToken cancellationToken)
    {
        try
        {
            var rejected = (await nodes.ListAsync(cancellationToken)).Where(n => n.Admission == NodeAdmissions.Rejected).Select(n => n.Name).ToList();
            await revocations.ReplaceAllAsync(rejected);
            logger.LogDebug("Revocation list rebuilt: {Count} rejected nodes", rejected.Count);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The revocation list could not be rebuilt yet: {Reason}", ex.Message);
            return false;
        }
    }
}
