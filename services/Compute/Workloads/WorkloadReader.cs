using System.Text.Json;
using Npgsql;

namespace Platform.Compute.Workloads;

/// <summary>
/// Reads <see cref="WorkloadRecord"/>s from a raw Npgsql reader by column name: each ordinal is looked up once per
/// result, each value read with its own type. Raw Npgsql earns its place here: these rows are read on the agents' hot
/// paths (every workload of a node on each of its agent's passes, the row lock under every report), where mapping
/// through Dapper's type handlers measured slower per row; everywhere else Dapper maps them.
/// </summary>
internal sealed class WorkloadReader(NpgsqlDataReader reader)
{
    readonly int workloadId = reader.GetOrdinal("workload_id"), name = reader.GetOrdinal("name"), owner = reader.GetOrdinal("owner"),
        nodeId = reader.GetOrdinal("node_id"), driver = reader.GetOrdinal("driver"), image = reader.GetOrdinal("image"),
        command = reader.GetOrdinal("command"), args = reader.GetOrdinal("args"), env = reader.GetOrdinal("env"), labels = reader.GetOrdinal("labels"),
        nodeSelector = reader.GetOrdinal("node_selector"), cpuMillis = reader.GetOrdinal("cpu_millis"), memoryBytes = reader.GetOrdinal("memory_bytes"),
        gpuCount = reader.GetOrdinal("gpu_count"), restartPolicy = reader.GetOrdinal("restart_policy"), network = reader.GetOrdinal("network"),
        vmState = reader.GetOrdinal("vm_state"), taskState = reader.GetOrdinal("task_state"), powerState = reader.GetOrdinal("power_state"),
        desiredState = reader.GetOrdinal("desired_state"), restartGeneration = reader.GetOrdinal("restart_generation"),
        restartHard = reader.GetOrdinal("restart_hard"), stopTimeoutMs = reader.GetOrdinal("stop_timeout_ms"), forceStop = reader.GetOrdinal("force_stop"),
        generation = reader.GetOrdinal("generation"), pid = reader.GetOrdinal("pid"), exitCode = reader.GetOrdinal("exit_code"),
        restarts = reader.GetOrdinal("restarts"), message = reader.GetOrdinal("message"), startedAt = reader.GetOrdinal("started_at"),
        finishedAt = reader.GetOrdinal("finished_at"), createdAt = reader.GetOrdinal("created_at"), updatedAt = reader.GetOrdinal("updated_at");

    public WorkloadRecord Read() => new()
    {
        WorkloadId = reader.GetGuid(workloadId), Name = reader.GetString(name), Owner = reader.GetString(owner),
        NodeId = reader.IsDBNull(nodeId) ? null : reader.GetGuid(nodeId), Driver = reader.GetString(driver), Image = reader.GetString(image),
        Command = reader.GetString(command), Args = reader.GetFieldValue<string[]>(args), Env = Map(env), Labels = Map(labels),
        NodeSelector = Map(nodeSelector), CpuMillis = reader.GetInt32(cpuMillis), MemoryBytes = reader.GetInt64(memoryBytes),
        GpuCount = reader.GetInt32(gpuCount), RestartPolicy = reader.GetString(restartPolicy), Network = reader.GetString(network),
        VmState = reader.GetString(vmState), TaskState = reader.GetString(taskState), PowerState = reader.GetString(powerState),
        DesiredState = reader.GetString(desiredState), RestartGeneration = reader.GetInt64(restartGeneration), RestartHard = reader.GetBoolean(restartHard),
        StopTimeoutMs = reader.GetInt64(stopTimeoutMs), ForceStop = reader.GetBoolean(forceStop), Generation = reader.GetInt64(generation),
        Pid = reader.IsDBNull(pid) ? null : reader.GetInt32(pid), ExitCode = reader.IsDBNull(exitCode) ? null : reader.GetInt32(exitCode),
        Restarts = reader.GetInt32(restarts), Message = reader.GetString(message), StartedAt = Time(startedAt), FinishedAt = Time(finishedAt),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(createdAt), UpdatedAt = reader.GetFieldValue<DateTimeOffset>(updatedAt),
    };

    Dictionary<string, string> Map(int ordinal) => JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(ordinal)) ?? [];

    DateTimeOffset? Time(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
