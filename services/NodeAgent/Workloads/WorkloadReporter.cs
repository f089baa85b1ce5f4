using Grpc.Core;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;

namespace Platform.NodeAgent.Workloads;

/// <summary>Sends workload reports to Compute; a report Compute acknowledged is remembered so it is not sent again unchanged.</summary>
public sealed class WorkloadReporter(WorkloadAssignments.WorkloadAssignmentsClient compute, NodeIdentity identity, ILogger<WorkloadReporter> logger)
{
    public async Task ReportAsync(IReadOnlyCollection<(LocalWorkload? Workload, WorkloadReport Report)> reports, CancellationToken cancellationToken)
    {
        if (reports.Count == 0) return;
        var request = new ReportWorkloadsRequest { NodeId = identity.NodeId.ToString() };
        request.Reports.AddRange(reports.Select(r => r.Report));
        try
        {
            await compute.ReportWorkloadsAsync(request, deadline: ServiceDefaults.Grpc.CallDeadlines.FromNow(), cancellationToken: cancellationToken);
            foreach (var (workload, report) in reports)
                if (workload is not null) workload.LastReport = report;
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Reporting {Count} workloads failed ({Reason}); the next pass reports them again", request.Reports.Count, ex.Message);
        }
    }
}
