using Platform.Scheduler.V1;

namespace Platform.Tokenomics.Governance;

/// <summary>Carries out the actions of a proposal that other services own, over gRPC as the <c>tokenomics</c> service.</summary>
public sealed class ProposalExecution(Placements.PlacementsClient scheduler, ILogger<ProposalExecution> logger)
{
    public async Task CarryOutAsync(ProposalRow proposal, CancellationToken cancellationToken)
    {
        foreach (var action in proposal.ParsedActions.Where(a => a.ObjectiveWeights is not null))
        {
            var weights = action.ObjectiveWeights.Clone();
            weights.ChangedBy = "";
            weights.ChangedAtMs = 0;
            var set = await scheduler.SetObjectiveWeightsAsync(weights, cancellationToken: cancellationToken);
            logger.LogInformation("Proposal {ProposalId} set the Scheduler's objective weights: {Weights}", proposal.ProposalId, set);
        }
    }
}
