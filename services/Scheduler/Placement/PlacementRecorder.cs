using Platform.Scheduler.Jobs;
using Platform.Scheduler.V1;

namespace Platform.Scheduler.Placement;

/// <summary>Keeps each solve as a decision (front, chosen point, baselines, why) and announces the jobs it schedules.</summary>
public sealed class PlacementRecorder(DecisionStore decisions, ObjectiveWeightsStore weights, JobEvents events)
{
    ObjectiveWeights current = new();

    public async Task<double[]> WeightsAsync(CancellationToken cancellationToken)
    {
        current = await weights.GetAsync(cancellationToken);
        return ObjectiveWeightsStore.InObjectiveOrder(current);
    }

    public async Task<Decision> RecordAsync(PlacementBatch batch, PlacementResult result, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var decision = new Decision
        {
            DecisionId = Guid.CreateVersion7(now).ToString(), MadeAtMs = now.ToUnixTimeMilliseconds(), PendingJobs = batch.Jobs.Count,
            PlacedJobs = PlacementSolver.Placed(result.Chosen), Nodes = batch.Nodes.Count, SolveMs = Math.Round(result.Elapsed.TotalMilliseconds, 3),
            Generations = result.Generations, Evaluations = result.Evaluations, Weights = current, Why = result.Why,
            Chosen = Point(result.ChosenObjectives, PlacementSolver.Placed(result.Chosen), "chosen"),
        };
        decision.Objectives.AddRange(PlacementProblem.ObjectiveNames);
        decision.Front.AddRange(result.Front.Select(p => Point(p.Objectives, p.Placed, "")));
        decision.Baselines.AddRange(result.Baselines.Select(b => Point(b.Objectives, b.Placed, b.Name)));
        for (var j = 0; j < batch.Jobs.Count; j++)
            if (result.Chosen[j] >= 0)
                decision.Placements.Add(new V1.Placement { JobId = batch.Jobs[j].JobId.ToString(), NodeId = batch.Nodes[result.Chosen[j]].NodeId.ToString() });
        await decisions.SaveAsync(decision, cancellationToken);
        return decision;
    }

    public Task ScheduledAsync(JobRow job) => events.ChangedAsync(job);

    static FrontPoint Point(double[] objectives, int placed, string label)
    {
        var point = new FrontPoint { Placed = placed, Label = label };
        point.Objectives.AddRange(objectives.Select(v => Math.Round(v, 6)));
        return point;
    }
}
