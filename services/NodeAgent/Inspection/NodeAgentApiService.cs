using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.NodeAgent.Drivers;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.V1;
using Platform.NodeAgent.Workloads;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Inspection;

/// <summary>The agent's own API, for Compute (service token): processes, ports, stats, health checks, workload logs.</summary>
public sealed class NodeAgentApiService(NodeIdentity identity, LocalWorkloads workloads, NodeHealthChecks health) : NodeAgentApi.NodeAgentApiBase
{
    const long DefaultTail = 64 * 1024, MaxTail = 1024 * 1024;

    [Authorize(Policy = PlatformPolicies.Service)]
    public override async Task<ListProcessesResponse> ListProcesses(ListProcessesRequest request, ServerCallContext context)
    {
        var sortBy = request.SortBy == "" ? "cpu" : request.SortBy;
        new RequestValidation()
            .Require(sortBy is "cpu" or "memory", "sort_by", "must be cpu or memory")
            .Require(request.Limit is >= 0 and <= 500, "limit", "must be between 0 and 500")
            .ThrowIfInvalid();
        return await new ProcessList().TopAsync(sortBy, request.Limit == 0 ? 20 : request.Limit, WorkloadSessions(), context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Service)]
    public override Task<ListPortsResponse> ListPorts(ListPortsRequest request, ServerCallContext context) =>
        Task.FromResult(new PortList().List(WorkloadSessions()));

    [Authorize(Policy = PlatformPolicies.Service)]
    public override async Task<SystemStats> GetSystemStats(GetSystemStatsRequest request, ServerCallContext context)
    {
        var before = CpuTimes.Parse(await File.ReadAllTextAsync("/proc/stat"));
        await Task.Delay(ProcessList.Sample, context.CancellationToken);
        var stat = await File.ReadAllTextAsync("/proc/stat");
        var memory = MemoryInfo.Parse(await File.ReadAllTextAsync("/proc/meminfo"));
        var load = LoadAverage.Parse(await File.ReadAllTextAsync("/proc/loadavg"));
        var drive = new DriveInfo(identity.StateDirectory);
        return new SystemStats
        {
            CpuCores = Environment.ProcessorCount, CpuPercent = Math.Round(CpuTimes.Parse(stat).UsagePercentSince(before) ?? 0, 1),
            Load1 = load.One, Load5 = load.Five, Load15 = load.Fifteen, MemoryTotalBytes = memory.TotalBytes, MemoryAvailableBytes = memory.AvailableBytes,
            DiskTotalBytes = drive.TotalSize, DiskFreeBytes = drive.AvailableFreeSpace,
            UptimeSeconds = (long)double.Parse((await File.ReadAllTextAsync("/proc/uptime")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture),
            Processes = ProcessStat.All().Count(), Workloads = workloads.All.Count,
        };
    }

    [Authorize(Policy = PlatformPolicies.Service)]
    public override Task<HealthCheckReport> RunHealthChecks(RunHealthChecksRequest request, ServerCallContext context) => Task.FromResult(health.Run());

    [Authorize(Policy = PlatformPolicies.Service)]
    public override async Task<WorkloadLog> ReadWorkloadLog(ReadWorkloadLogRequest request, ServerCallContext context)
    {
        var stream = request.Stream == "" ? "stdout" : request.Stream;
        new RequestValidation()
            .Require(stream is "stdout" or "stderr", "stream", "must be stdout or stderr")
            .Require(request.TailBytes is >= 0 and <= MaxTail, "tail_bytes", $"must be between 0 and {MaxTail}")
            .ThrowIfInvalid();
        var workload = workloads.All.FirstOrDefault(w => w.WorkloadId == request.WorkloadId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Workload {request.WorkloadId} is not on node {identity.Name}."));
        var log = new WorkloadLog { WorkloadId = workload.WorkloadId, Stream = stream };
        FileStream? opened;
        try
        {
            // The workload owns its folder: its log may have become a link to a host file, a FIFO or a device.
            opened = UntrustedFiles.OpenRead(Path.Combine(workload.Folder, $"{stream}.log"));
        }
        catch (UntrustedFileException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"The workload replaced its log: {ex.Message}; only a regular file is read."));
        }
        if (opened is null) return log;
        await using var reader = opened;
        var tail = Math.Min(reader.Length, request.TailBytes == 0 ? DefaultTail : request.TailBytes);
        reader.Seek(-tail, SeekOrigin.End);
        var buffer = new byte[tail];
        await reader.ReadExactlyAsync(buffer, context.CancellationToken);
        (log.Text, log.SizeBytes, log.Truncated) = (Encoding.UTF8.GetString(buffer), reader.Length, tail < reader.Length);
        return log;
    }

    /// <summary>Each supervised workload's session (its wrapper's pid) → its id.</summary>
    Dictionary<int, string> WorkloadSessions() =>
        workloads.All.Where(w => w.Handle is not null).GroupBy(w => w.Handle!.Pid).ToDictionary(g => g.Key, g => g.First().WorkloadId);
}
