using System.Globalization;
using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Staking;

/// <summary>Staking's API: stake, unstake, cancel, redelegate, validators, slashes, rewards. Everyone stakes their own tokens; admins may read anyone's.</summary>
public sealed class StakingService(StakingStore staking, Redelegations redelegations, Slashing slashing, ValidatorStore validators,
    LedgerEvents events, TimeProvider clock, ILogger<StakingService> logger) : V1.Staking.StakingBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Delegation> Stake(StakeRequest request, ServerCallContext context)
    {
        var delegator = Delegators.Person(context);
        var key = Validate(request.Node, "node", request.Amount, request.IdempotencyKey, context);
        var (delegation, validator, replayed) = await staking.StakeAsync(delegator, request.Node, request.Amount, key, clock.GetUtcNow(), context.CancellationToken);
        if (!replayed) await events.PublishAsync("stake.created", $"{delegator} staked {request.Amount} to {request.Node}", delegation.ToMessage(validator));
        return delegation.ToMessage(validator, replayed);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Unbonding> Unstake(UnstakeRequest request, ServerCallContext context)
    {
        var delegator = Delegators.Person(context);
        var key = Validate(request.Node, "node", request.Amount, request.IdempotencyKey, context);
        var (unbonding, replayed) = await staking.UnstakeAsync(delegator, request.Node, request.Amount, key, clock.GetUtcNow(), context.CancellationToken);
        if (!replayed) await events.PublishAsync("unbonding.started", $"{delegator} unstaked {unbonding.InitialBalance} from {request.Node}", unbonding.ToMessage());
        return unbonding.ToMessage(replayed);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Delegation> CancelUnbonding(CancelUnbondingRequest request, ServerCallContext context)
    {
        var delegator = Delegators.Person(context);
        var id = RequestValidation.RequireGuid(request.UnbondingId, "unbonding_id");
        var (delegation, validator, replayed) = await staking.CancelUnbondingAsync(delegator, id, clock.GetUtcNow(), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"{delegator} has no unbonding {request.UnbondingId}"));
        if (!replayed) await events.PublishAsync("unbonding.cancelled", $"{delegator} cancelled unbonding {id}", delegation.ToMessage(validator));
        return delegation.ToMessage(validator, replayed);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListUnbondingsResponse> ListUnbondings(ListUnbondingsRequest request, ServerCallContext context)
    {
        var response = new ListUnbondingsResponse();
        response.Unbondings.AddRange((await validators.UnbondingsAsync(Delegators.Subject(context, request.Delegator), context.CancellationToken)).Select(u => u.ToMessage()));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Redelegation> Redelegate(RedelegateRequest request, ServerCallContext context)
    {
        var delegator = Delegators.Person(context);
        var key = Validate(request.SourceNode, "source_node", request.Amount, request.IdempotencyKey, context);
        new RequestValidation()
            .Require(TransferRequests.IsNodeName(request.DestinationNode), "destination_node", "must be a node's name")
            .Require(request.DestinationNode != request.SourceNode, "destination_node", "must differ from source_node").ThrowIfInvalid();
        var (moved, replayed) = await redelegations.RedelegateAsync(delegator, request.SourceNode, request.DestinationNode, request.Amount, key,
            clock.GetUtcNow(), context.CancellationToken);
        if (!replayed) await events.PublishAsync("redelegation.created", $"{delegator} moved {moved.InitialBalance} from {moved.SourceNode} to {moved.DestinationNode}", moved.ToMessage());
        return moved.ToMessage(replayed);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListDelegationsResponse> ListDelegations(ListDelegationsRequest request, ServerCallContext context)
    {
        var response = new ListDelegationsResponse();
        response.Delegations.AddRange((await validators.DelegationsAsync(Delegators.Subject(context, request.Delegator), context.CancellationToken)).Select(d => d.Delegation.ToMessage(d.Validator)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListValidatorsResponse> ListValidators(ListValidatorsRequest request, ServerCallContext context)
    {
        var response = new ListValidatorsResponse();
        var now = clock.GetUtcNow();
        response.Validators.AddRange((await validators.ListAsync(context.CancellationToken)).Select(v => v.Validator.ToMessage(v.Delegators, now)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Validator> RegisterValidator(RegisterValidatorRequest request, ServerCallContext context)
    {
        var rate = decimal.TryParse(request.CommissionRate, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
        new RequestValidation()
            .Require(TransferRequests.IsNodeName(request.Node), "node", "must be a node's name (lowercase letters, digits, '.' and '-')")
            .Require(rate is >= 0 and <= 1 && decimal.Round(rate, 4) == rate, "commission_rate", "must be a decimal from 0 to 1 with at most 4 places, e.g. \"0.1\"")
            .ThrowIfInvalid();
        var validator = await validators.RegisterAsync(request.Node, rate, context.Caller(), clock.GetUtcNow(), context.CancellationToken);
        await events.PublishAsync("validator.registered", $"{context.Caller()} registered {request.Node} as a validator at {rate} commission", validator.ToMessage(0, clock.GetUtcNow()));
        return validator.ToMessage(0, clock.GetUtcNow());
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Validator> Unjail(UnjailRequest request, ServerCallContext context)
    {
        var validator = await validators.UnjailAsync(request.Node, context.Caller(), context.GetHttpContext().User.IsInRole("admin"), clock.GetUtcNow(), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"node {request.Node} is not a validator"));
        logger.LogInformation("Validator {Node} unjailed by {Caller}", request.Node, context.Caller());
        return validator.ToMessage(0, clock.GetUtcNow());
    }

    [Authorize(Policy = PlatformPolicies.AdminOrService)]
    public override async Task<Slash> SlashValidator(SlashRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        new RequestValidation()
            .Require(TransferRequests.IsNodeName(request.Node), "node", "must be a node's name")
            .Require(request.Reason is Staking.Slashing.Downtime or Staking.Slashing.SlaBreach, "reason", "must be downtime or sla")
            .Require(request.Evidence.Length is > 0 and <= 256, "evidence", "is required: 1-256 characters naming what proves the infraction")
            .Require(request.InfractionAtMs > 0 && request.InfractionAtMs <= now.ToUnixTimeMilliseconds(), "infraction_at_ms", "must be a past time in Unix milliseconds")
            .ThrowIfInvalid();
        var (slash, replayed) = await slashing.SlashAsync(request.Node, request.Reason, request.Evidence, DateTimeOffset.FromUnixTimeMilliseconds(request.InfractionAtMs), now,
            context.CancellationToken);
        if (!replayed) await events.PublishAsync("validator.slashed", $"{request.Node} slashed {slash.Amount} for {request.Reason} ({request.Evidence}) by {context.Caller()}", slash.ToMessage());
        return slash.ToMessage(replayed);
    }

    /// <summary>
    /// Checks a movement of stake and answers its idempotency key (<see cref="IdempotencyKeys"/>: the body's or the
    /// header's); one of them is required, so a retried request never stakes twice.
    /// </summary>
    static string Validate(string node, string field, long amount, string bodyKey, ServerCallContext context)
    {
        var key = IdempotencyKeys.Resolve(bodyKey, context);
        new RequestValidation()
            .Require(TransferRequests.IsNodeName(node), field, "must be a validator's node name (see GET /api/tokenomics/validators)")
            .Require(amount is > 0 and <= TransferRequests.MaxAmount, "amount", $"must be between 1 and {TransferRequests.MaxAmount} (the token's smallest unit)")
            .Require(key.Length is > 0 and <= 128, "idempotency_key",
                "is required (or the Idempotency-Key header): 1-128 characters, unique per caller, so a retry moves nothing twice")
            .ThrowIfInvalid();
        return key;
    }
}
