using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Workloads;

namespace Platform.NodeAgent.Tests;

/// <summary>The agent's record of each workload lives where no workload can write, and nothing in a workload's folder is trusted.</summary>
public sealed class LocalWorkloadStateTests : IDisposable
{
    readonly string state = Directory.CreateTempSubdirectory("agent-state-").FullName;
    public void Dispose() => Directory.Delete(state, recursive: true);

    LocalWorkloads Workloads() =>
        new([], new NodeIdentity(Guid.NewGuid(), "n1", "n1", state, "1"), null!, TimeProvider.System, NullLogger<LocalWorkloads>.Instance);

    static Assignment Assignment(string id) => new() { WorkloadId = id, Name = "w", Driver = "process", Command = "true" };

    [Fact]
    public void The_record_is_kept_outside_the_workloads_folder_readable_by_the_agent_alone()
    {
        var id = Guid.NewGuid().ToString();
        var workload = Workloads().GetOrAdd(Assignment(id));
        Directory.CreateDirectory(workload.Folder);

        workload.Save();

        Assert.False(workload.StateFile.StartsWith(workload.Folder, StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(workload.StateFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(workload.StateFile)!));
        Assert.Empty(Directory.EnumerateFileSystemEntries(workload.Folder));
    }

    [Fact]
    public void A_workload_json_planted_in_the_folder_or_a_record_under_another_name_is_never_believed()
    {
        var id = Guid.NewGuid().ToString();
        var first = Workloads();
        var workload = first.GetOrAdd(Assignment(id));
        Directory.CreateDirectory(workload.Folder);
        workload.Save();
        // The workload writes what a previous agent version kept in its folder: another folder to delete, pid 1 to kill.
        File.WriteAllText(Path.Combine(workload.Folder, "workload.json"), JsonSerializer.Serialize(new
        {
            workloadId = id, name = "evil", driver = "process", folder = "/etc", handle = new { driver = "process", folder = "/etc", pid = 1, startTicks = 1 },
        }));
        // A record whose file name is not its id (a copy someone slipped in) is skipped too.
        File.Copy(workload.StateFile, Path.Combine(Path.GetDirectoryName(workload.StateFile)!, $"{Guid.NewGuid()}.json"));

        var restarted = Workloads();
        restarted.Recover();

        var recovered = Assert.Single(restarted.All);
        Assert.Equal((id, "w", workload.Folder, null), (recovered.WorkloadId, recovered.Name, recovered.Folder, recovered.Handle));
    }

    [Fact]
    public void An_assignment_whose_id_is_not_a_uuid_names_no_folder()
    {
        Assert.Throws<ArgumentException>(() => Workloads().GetOrAdd(Assignment("../../etc")));
    }
}
