using Grpc.Core;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Pushes batches the way an agent does: over the gRPC stream with an agent token, reading every acknowledgement.</summary>
static class TestAgent
{
    public static Task<List<BatchAck>> PushAsync(ServiceHost<Program> host, params SampleBatch[] batches) =>
        PushAsAsync(host, batches[0].AgentId, batches);

    /// <summary>Pushes with a token for <paramref name="agent"/>, whichever agent the batches name.</summary>
    public static async Task<List<BatchAck>> PushAsAsync(ServiceHost<Program> host, string agent, params SampleBatch[] batches)
    {
        var client = new MetricIngestion.MetricIngestionClient(host.Channel(TestInfrastructure.Token(agent, "agent")));
        using var call = client.PushSamples();
        foreach (var batch in batches) await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        var acks = new List<BatchAck>();
        await foreach (var ack in call.ResponseStream.ReadAllAsync()) acks.Add(ack);
        return acks;
    }
}
