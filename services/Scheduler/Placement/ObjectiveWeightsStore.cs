using Npgsql;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Scheduler.Placement;

/// <summary><c>scheduler.objective_weights</c>: the one row of weights that chooses a solution from the front.</summary>
public sealed class ObjectiveWeightsStore(NpgsqlDataSource db)
{
    public async Task<ObjectiveWeights> GetAsync(CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<WeightsRow>(
            "SELECT makespan, cost, energy, sla_lateness, imbalance, changed_by, changed_at FROM scheduler.objective_weights", null, cancellationToken))!.ToMessage();

    public async Task<ObjectiveWeights> SetAsync(ObjectiveWeights weights, string changedBy, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<WeightsRow>("""
            UPDATE scheduler.objective_weights SET makespan = @Makespan, cost = @Cost, energy = @Energy, sla_lateness = @SlaLateness,
                imbalance = @Imbalance, changed_by = @changedBy, changed_at = @now
            RETURNING makespan, cost, energy, sla_lateness, imbalance, changed_by, changed_at
            """, new { weights.Makespan, weights.Cost, weights.Energy, weights.SlaLateness, weights.Imbalance, changedBy, now }, cancellationToken))!.ToMessage();

    /// <summary>The weights in the order of <see cref="PlacementProblem.ObjectiveNames"/>.</summary>
    public static double[] InObjectiveOrder(ObjectiveWeights weights) => [weights.Makespan, weights.Cost, weights.Energy, weights.SlaLateness, weights.Imbalance];

    sealed record WeightsRow
    {
        public double Makespan { get; init; }
        public double Cost { get; init; }
        public double Energy { get; init; }
        public double SlaLateness { get; init; }
        public double Imbalance { get; init; }
        public string ChangedBy { get; init; } = "";
        public DateTimeOffset ChangedAt { get; init; }

        public ObjectiveWeights ToMessage() => new()
        {
            Makespan = Makespan, Cost = Cost, Energy = Energy, SlaLateness = SlaLateness, Imbalance = Imbalance, ChangedBy = ChangedBy,
            ChangedAtMs = ChangedAt.ToUnixTimeMilliseconds(),
        };
    }
}
