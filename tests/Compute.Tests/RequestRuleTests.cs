using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Hosting.Internal;
using Platform.Compute.Migration;
using Platform.Compute.V1;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Grpc;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>
/// The service classes called directly with a test ServerCallContext, no database: a bad request is refused with
/// every bad field named before any dependency is touched (they are null here), and domain errors map to statuses in
/// the one interceptor.
/// </summary>
public sealed class RequestRuleTests
{
    static readonly WorkloadService Workloads = new(null!, null!, null!, null!);
    static readonly MigrationService Migrations = new(null!, null!, null!, null!);

    static IReadOnlyList<string> BadFields(RpcException ex)
    {
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        return [.. ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Select(v => v.Field)];
    }

    [Fact]
    public async Task A_create_names_every_bad_field()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => Workloads.CreateWorkload(new CreateWorkloadRequest
        {
            Name = "-bad", Driver = "docker", CpuMillis = -1, MemoryBytes = 10, Env = { ["1X"] = "y" }, RestartPolicy = "sometimes",
        }, new TestServerCallContext()));

        Assert.Equal(["name", "driver", "command", "env", "cpu_millis", "memory_bytes", "restart_policy"], BadFields(refused));
    }

    [Fact]
    public async Task An_update_or_a_stop_is_checked_before_it_reaches_the_store()
    {
        var update = await Assert.ThrowsAsync<RpcException>(() => Workloads.UpdateWorkload(new UpdateWorkloadRequest
        {
            WorkloadId = Guid.NewGuid().ToString(), RestartPolicy = "sometimes", Labels = { [""] = "x" },
        }, new TestServerCallContext()));
        var stop = await Assert.ThrowsAsync<RpcException>(() => Workloads.StopWorkload(new StopWorkloadRequest
        {
            WorkloadId = Guid.NewGuid().ToString(), TimeoutMs = -1,
        }, new TestServerCallContext()));
        var id = await Assert.ThrowsAsync<RpcException>(() => Workloads.StartWorkload(new WorkloadRequest { WorkloadId = "nope" }, new TestServerCallContext()));

        Assert.Equal(["restart_policy", "labels"], BadFields(update));
        Assert.Equal(["timeout_ms"], BadFields(stop));
        Assert.Equal(["workload_id"], BadFields(id));
    }

    [Fact]
    public async Task A_migration_request_names_every_bad_field_and_defaults_the_rest()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => Migrations.MigrateWorkload(new MigrateWorkloadRequest
        {
            WorkloadId = Guid.NewGuid().ToString(), TargetNodeId = "nope", Type = "teleport", CompressionLevel = 30, BandwidthLimitBytesPerSecond = 10,
        }, new TestServerCallContext()));
        var plan = MigrationRequests.Normalize(new MigrateWorkloadRequest { WorkloadId = Guid.Empty.ToString() });

        Assert.Equal(["target_node_id", "type", "compression_level", "bandwidth_limit_bytes_per_second"], BadFields(refused));
        Assert.Equal(new MigrationPlan(Guid.Empty, null, "cold", 3, 0), plan);
    }

    [Fact]
    public void An_agent_report_with_an_unknown_phase_or_negative_counters_is_refused()
    {
        var refused = Assert.Throws<RpcException>(() => MigrationRequests.Validate(new MigrationReport
        {
            MigrationId = Guid.NewGuid().ToString(), Phase = "starting", BytesSent = -1,
        }));

        Assert.Equal(["phase", "bytes_total"], BadFields(refused));
    }

    [Fact]
    public async Task A_workload_conflict_maps_to_409_with_the_state_and_the_allowed_actions()
    {
        var interceptor = new DomainExceptionInterceptor(new HostingEnvironment { ApplicationName = "Compute" });
        var workload = new WorkloadRecord { WorkloadId = Guid.NewGuid(), VmState = VmStates.Stopped, PowerState = PowerStates.Shutdown };

        var mapped = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<WorkloadRequest, Workload>(
            new WorkloadRequest(), new TestServerCallContext(), (_, _) => throw new WorkloadConflictException(workload, "pause")));

        Assert.Equal(StatusCode.Aborted, mapped.StatusCode);
        Assert.Equal($"Cannot pause workload {workload.WorkloadId}: it is stopped. Allowed now: start, restart_hard, update, delete.", mapped.Status.Detail);
        var info = mapped.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal(("ACTION_NOT_ALLOWED", "compute.platform"), (info.Reason, info.Domain));
        Assert.Equal("start,restart_hard,update,delete", info.Metadata["allowed_actions"]);
        Assert.Equal(("stopped", "", "shutdown"), (info.Metadata["vm_state"], info.Metadata["task_state"], info.Metadata["power_state"]));
    }

    [Fact]
    public async Task The_network_is_none_by_default_where_a_driver_can_isolate_it_and_a_driver_cannot_be_asked_for_what_it_cannot_give()
    {
        var sandbox = WorkloadRequests.Normalize(new CreateWorkloadRequest { Driver = "sandbox", Command = "true" });
        var process = WorkloadRequests.Normalize(new CreateWorkloadRequest { Command = "true" });
        var processNone = await Assert.ThrowsAsync<RpcException>(() => Workloads.CreateWorkload(
            new CreateWorkloadRequest { Command = "true", Network = "none" }, new TestServerCallContext()));
        var qemuHost = await Assert.ThrowsAsync<RpcException>(() => Workloads.CreateWorkload(
            new CreateWorkloadRequest { Driver = "qemu", Image = "disk.img", Network = "host" }, new TestServerCallContext()));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Workloads.CreateWorkload(
            new CreateWorkloadRequest { Driver = "sandbox", Command = "true", Network = "bridge" }, new TestServerCallContext()));

        Assert.Equal(("none", "host"), (sandbox.Network, process.Network));
        Assert.Equal(["network"], BadFields(processNone));
        Assert.Equal(["network"], BadFields(qemuHost));
        Assert.Equal(["network"], BadFields(unknown));
    }

    [Fact]
    public async Task A_vm_image_is_a_name_in_the_nodes_image_store_never_a_path_or_a_protocol()
    {
        foreach (var image in (string[])["/etc/shadow", "../disk.img", "json:{\"file.filename\":\"/etc/shadow\"}", "nbd://10.0.0.1/disk", "disk.iso"])
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => Workloads.CreateWorkload(
                new CreateWorkloadRequest { Driver = "qemu", Image = image }, new TestServerCallContext()));
            Assert.Equal(["image"], BadFields(refused));
        }
        Assert.Equal("debian-12.qcow2", WorkloadRequests.Normalize(new CreateWorkloadRequest { Driver = "qemu", Image = "debian-12.qcow2" }).Image);
    }
}
