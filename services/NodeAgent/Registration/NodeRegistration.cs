using Grpc.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Platform.NodeAgent.Drivers;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Machine;

namespace Platform.NodeAgent.Registration;

/// <summary>
/// Registers this node with Compute and keeps its lease renewed; registers again whenever Compute no longer knows the
/// node (a wiped database, say). Failures back off up to 30 s and never stop the agent.
/// </summary>
public sealed class NodeRegistration(
    Compute.V1.Compute.ComputeClient compute, NodeIdentity identity, IOptions<NodeAgentOptions> options, IEnumerable<IWorkloadDriver> drivers,
    RegistrationState state, IConfiguration configuration, TimeProvider clock, ILogger<NodeRegistration> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!state.IsRegistered)
                {
                    var node = await compute.RegisterNodeAsync(BuildRequest(), cancellationToken: stoppingToken);
                    state.Renewed(clock.GetUtcNow());
                    logger.LogInformation("Registered as node {NodeName} ({NodeId}), status {Status}", node.Name, node.NodeId, node.Status);
                }
                else
                {
                    await compute.HeartbeatAsync(new HeartbeatRequest { NodeId = identity.NodeId.ToString() }, cancellationToken: stoppingToken);
                    state.Renewed(clock.GetUtcNow());
                }
                backoff = TimeSpan.FromMilliseconds(250);
                await Task.Delay(options.Value.HeartbeatInterval, clock, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                logger.LogWarning("Compute no longer knows node {NodeId}; registering again", identity.NodeId);
                state.Lost();
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Compute unreachable ({Reason}); retrying in {Backoff}", ex.Message, backoff);
                await Task.Delay(backoff, clock, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>Where Compute reaches this agent's API: NodeAgent:AdvertiseUrl, else the HTTP/2 endpoint it listens on.</summary>
    string AdvertisedUrl()
    {
        var url = options.Value.AdvertiseUrl ?? configuration["Kestrel:Endpoints:grpc:Url"] ?? "";
        return url.Replace("://0.0.0.0:", "://127.0.0.1:").Replace("://+:", "://127.0.0.1:").Replace("://*:", "://127.0.0.1:").Replace("://[::]:", "://127.0.0.1:");
    }

    RegisterNodeRequest BuildRequest()
    {
        var machine = new MachineReader();
        var request = new RegisterNodeRequest
        {
            NodeId = identity.NodeId.ToString(),
            Name = identity.Name,
            Hostname = identity.Hostname,
            Capacity = machine.ReadCapacity(),
            AgentVersion = identity.AgentVersion,
            AgentUrl = AdvertisedUrl(),
        };
        request.Addresses.AddRange(MachineReader.ReadAddresses().Take(64));
        request.Labels.Add(options.Value.Labels);
        request.Drivers.AddRange(drivers.Select(d => d.Fingerprint()));
        return request;
    }
}

/// <summary>Whether Compute currently holds this node's lease, shared with the health check.</summary>
public sealed class RegistrationState
{
    DateTimeOffset? lastRenewal;

    public bool IsRegistered => lastRenewal is not null;
    public DateTimeOffset? LastRenewal => lastRenewal;

    public void Renewed(DateTimeOffset at) => lastRenewal = at;
    public void Lost() => lastRenewal = null;
}

/// <summary>Healthy once the node is registered and its lease was renewed recently.</summary>
public sealed class RegistrationHealthCheck(RegistrationState state, IOptions<NodeAgentOptions> options, TimeProvider clock) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (state.LastRenewal is not { } renewed)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "not registered with Compute"));
        var age = clock.GetUtcNow() - renewed;
        return Task.FromResult(age <= options.Value.HeartbeatInterval * 3
            ? HealthCheckResult.Healthy($"lease renewed {age.TotalSeconds:F1} s ago")
            : new HealthCheckResult(context.Registration.FailureStatus, $"lease last renewed {age.TotalSeconds:F0} s ago"));
    }
}
