using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;

namespace Platform.Scheduler.Dispatch;

/// <summary>
/// Gold before bronze: a gold job the solve left pending for want of room looks for a node where preemptible bronze
/// jobs, once sent back to the queue, would free enough; the fewest such jobs (largest first) are preempted — their
/// workloads removed, their attempt counted — and the gold job is placed at the next solve, when the room is free.
/// </summary>
public sealed class Preemption(JobFollower follower, TimeProvider clock, ILogger<Preemption> logger)
{
    /// <summary>Room freed by a preemption shows only once the agent has removed the workloads: a gold job waits for it rather than preempting more.</summary>
    static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    readonly Dictionary<Guid, DateTimeOffset> madeRoomFor = [];

    public async Task MakeRoomAsync(PlacementBatch batch, int[] chosen, IReadOnlyList<JobRow> placed, CancellationToken cancellationToken)
    {
        var preempted = new HashSet<Guid>();
        var now = clock.GetUtcNow();
        foreach (var settled in madeRoomFor.Where(m => now - m.Value > Settle).Select(m => m.Key).ToList()) madeRoomFor.Remove(settled);
        for (var j = 0; j < batch.Jobs.Count; j++)
        {
            var gold = batch.Jobs[j];
            if (chosen[j] >= 0 || gold.SlaTier != SlaTiers.Gold || madeRoomFor.ContainsKey(gold.JobId)) continue;
            var eligible = batch.Problem.Jobs[j].EligibleNodes;
            // Room it only missed by chance (the solve left it waiting though a node has space): the next solve places it.
            if (eligible.Any(n => Room(batch, chosen, n) is var room && room.Cpu >= gold.CpuMillis && room.Memory >= gold.MemoryMib && room.Gpus >= gold.GpuCount)) continue;
            foreach (var n in eligible)
            {
                var node = batch.Nodes[n];
                var (cpu, memory, gpus) = Room(batch, chosen, n);
                var victims = new List<JobRow>();
                foreach (var bronze in placed.Where(p => p.NodeId == node.NodeId && p is { Preemptible: true, SlaTier: SlaTiers.Bronze } && !preempted.Contains(p.JobId))
                             .OrderByDescending(p => p.CpuMillis))
                {
                    if (cpu >= gold.CpuMillis && memory >= gold.MemoryMib && gpus >= gold.GpuCount) break;
                    // Only a job that frees some of what is still missing.
                    if (!(cpu < gold.CpuMillis && bronze.CpuMillis > 0 || memory < gold.MemoryMib && bronze.MemoryMib > 0 || gpus < gold.GpuCount && bronze.GpuCount > 0)) continue;
                    victims.Add(bronze);
                    (cpu, memory, gpus) = (cpu + bronze.CpuMillis, memory + bronze.MemoryMib, gpus + bronze.GpuCount);
                }
                if (cpu < gold.CpuMillis || memory < gold.MemoryMib || gpus < gold.GpuCount) continue;
                foreach (var victim in victims)
                    if (await follower.RequeueAsync(victim, JobReasons.Preempted, $"preempted for gold job {gold.JobId} on {node.Name}", JobStates.Preempted, cancellationToken))
                        preempted.Add(victim.JobId);
                madeRoomFor[gold.JobId] = now;
                logger.LogInformation("Gold job {JobId} preempted {Count} bronze jobs on {Node}", gold.JobId, victims.Count, node.Name);
                break;
            }
        }
    }

    /// <summary>What node <paramref name="n"/> has free once the solve's own placements on it are made.</summary>
    static (long Cpu, long Memory, long Gpus) Room(PlacementBatch batch, int[] chosen, int n)
    {
        var node = batch.Nodes[n];
        var taken = Enumerable.Range(0, chosen.Length).Where(k => chosen[k] == n).Select(k => batch.Jobs[k]).ToList();
        return (node.FreeCpuMillis - taken.Sum(t => (long)t.CpuMillis), node.FreeMemoryMib - taken.Sum(t => t.MemoryMib), node.FreeGpus - taken.Sum(t => (long)t.GpuCount));
    }
}
