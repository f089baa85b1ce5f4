using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Staking;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Rewards;

/// <summary>Rewards' API: what each delegation is owed (F1), claims, and the epochs with the work they paid for.</summary>
public sealed class DistributionService(ValidatorStore validators, RewardDistribution epochs, LedgerEvents events, TimeProvider clock)
    : Distribution.DistributionBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<V1.Rewards> GetRewards(GetRewardsRequest request, ServerCallContext context)
    {
        var delegator = Delegators.Subject(context, request.Delegator);
        var rewards = new V1.Rewards { Delegator = delegator };
        foreach (var (delegation, validator) in await validators.DelegationsAsync(delegator, context.CancellationToken))
            rewards.Delegations.Add(new DelegationReward { Node = delegation.Node, Amount = delegation.PendingRewards(validator) });
        rewards.Total = rewards.Delegations.Sum(d => d.Amount);
        return rewards;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<V1.Rewards> ClaimRewards(ClaimRewardsRequest request, ServerCallContext context)
    {
        var delegator = Delegators.Person(context);
        var rewards = new V1.Rewards { Delegator = delegator };
        rewards.Delegations.AddRange((await validators.ClaimAsync(delegator, clock.GetUtcNow(), context.CancellationToken))
            .Select(p => new DelegationReward { Node = p.Node, Amount = p.Paid }));
        rewards.Total = rewards.Delegations.Sum(d => d.Amount);
        if (rewards.Total > 0) await events.PublishAsync("rewards.claimed", $"{delegator} claimed {rewards.Total}", rewards);
        return rewards;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListEpochsResponse> ListEpochs(ListEpochsRequest request, ServerCallContext context)
    {
        var limit = request.Limit == 0 ? 24 : request.Limit;
        new RequestValidation().Require(limit is > 0 and <= 500, "limit", "must be between 1 and 500").ThrowIfInvalid();
        var response = new ListEpochsResponse();
        foreach (var epoch in (await epochs.RecentAsync(limit, context.CancellationToken)).GroupBy(r => r.EpochStart))
        {
            var message = new RewardEpoch { StartMs = epoch.Key.ToUnixTimeMilliseconds(), EndMs = epoch.First().EpochEnd.ToUnixTimeMilliseconds() };
            message.Nodes.AddRange(epoch.Where(r => r.Node is not null).Select(r => new NodeReward
            {
                Node = r.Node!, CpuSeconds = r.CpuSeconds, MemoryGibHours = r.MemoryGibHours, RelayGib = r.RelayGib, Reward = r.Reward, Commission = r.Commission, DelegatorsShare = r.DelegatorsShare,
            }));
            response.Epochs.Add(message);
        }
        return response;
    }
}
