using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Ingestion;

/// <summary>The agents' sample stream: each batch is validated, committed once, then acknowledged.</summary>
public sealed class MetricIngestionService(
    SampleWriter writer, SeriesInterner series, IngestionLimits limits, EventPublisher events, AgentRevocations revocations, TimeProvider clock,
    ILogger<MetricIngestionService> logger)
    : MetricIngestion.MetricIngestionBase
{
    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task PushSamples(IAsyncStreamReader<SampleBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        var caller = context.GetHttpContext().User;
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            // An agent token speaks for one agent only.
            if (caller.IsInRole("agent") && !Callers.ActsFor(caller, batch.AgentId))
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"This token may not push samples for agent '{batch.AgentId}'."));
            // A stream opened before its node was rejected ends at the next batch.
            if (caller.IsInRole("agent") && await revocations.IsRevokedAsync(batch.AgentId))
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"Agent '{batch.AgentId}' was rejected by an operator."));

            NodeLabels.EnsureCallerMayClaim(caller, batch);
            var samples = SampleBatchValidator.Validate(batch, clock.GetUtcNow(), series);
            limits.Admit(batch.AgentId, samples);
            var result = await writer.WriteBatchAsync(batch.AgentId, (long)batch.Epoch, (long)batch.Sequence, samples, context.CancellationToken);
            await responseStream.WriteAsync(new BatchAck { Sequence = batch.Sequence, Accepted = result.Accepted, Duplicate = result.Duplicate });

            if (result.Duplicate)
                logger.LogDebug("Batch {Sequence} of agent {AgentId} was already committed", batch.Sequence, batch.AgentId);
            else
                await events.PublishAsync("metrics", "samples.stored", new { agentId = batch.AgentId, sequence = batch.Sequence, samples = result.Accepted });
        }
    }
}
