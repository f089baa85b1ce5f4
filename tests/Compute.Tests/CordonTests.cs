using Grpc.Core;
using Platform.Compute.V1;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>Cordoning with the default leases: a loaded machine must not let the node's lease lapse mid-test.</summary>
public sealed class CordonTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_cordoned_node_takes_no_new_workloads_and_uncordoned_it_does()
    {
        var agent = new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token("cordoned", "agent")));
        var node = await agent.RegisterNodeAsync(new RegisterNodeRequest
        {
            NodeId = Guid.NewGuid().ToString(), Name = "cordoned", Hostname = "cordoned", AgentVersion = "1",
            Capacity = new NodeCapacity { CpuCores = 4, MemoryBytes = 4L << 30 },
            Drivers = { new DriverInfo { Name = "process", Available = true } },
        });
        var admin = new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token("olga", "operator")));
        var workloads = new V1.Workloads.WorkloadsClient(host.Channel(TestInfrastructure.Token("olga", "operator")));
        Task<WorkloadOperation> CreateAsync(string name) => workloads.CreateWorkloadAsync(new CreateWorkloadRequest
        {
            Name = name, Command = "sleep", Args = { "60" }, NodeId = node.NodeId, CpuMillis = 100, MemoryBytes = 16L << 20,
        }).ResponseAsync;
        await admin.CordonNodeAsync(new NodeActionRequest { NodeId = node.NodeId, Reason = "disk check" });

        var refused = await Assert.ThrowsAsync<RpcException>(() => CreateAsync("nope"));
        var listed = await admin.GetNodeAsync(new GetNodeRequest { NodeId = node.NodeId });
        await admin.UncordonNodeAsync(new NodeActionRequest { NodeId = node.NodeId });
        var placed = await CreateAsync("yes");

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal((false, "disk check"), (listed.Schedulable, listed.CordonReason));
        Assert.Equal(node.NodeId, placed.Workload.NodeId);
    }
}
