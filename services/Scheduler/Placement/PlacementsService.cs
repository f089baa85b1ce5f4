using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Placement;

/// <summary>Placement decisions (the front, the chosen point and why) and the weights that choose.</summary>
public sealed class PlacementsService(DecisionStore decisions, ObjectiveWeightsStore weights, IOptions<GovernanceOptions> governance, TimeProvider clock, ILogger<PlacementsService> logger)
    : Placements.PlacementsBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Decision> GetLatestDecision(GetLatestDecisionRequest request, ServerCallContext context) =>
        ForCaller(await decisions.LatestAsync(context.CancellationToken) ?? throw new RpcException(new Status(StatusCode.NotFound, "no placement decision has been made yet: submit a job")), context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Decision> GetDecision(DecisionRequest request, ServerCallContext context) =>
        ForCaller(await decisions.GetAsync(RequestValidation.RequireGuid(request.DecisionId, "decision_id"), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"decision {request.DecisionId} does not exist (or is older than the 500 kept)")), context);

    /// <summary>
    /// The front and the figures are the cluster's; which job went where is its owner's business: a viewer (who submits
    /// no jobs) gets the decision without its placements.
    /// </summary>
    static Decision ForCaller(Decision decision, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        if (!Jobs.JobVisibility.SeesAll(user)) decision.Placements.Clear();
        return decision;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<ObjectiveWeights> GetObjectiveWeights(GetObjectiveWeightsRequest request, ServerCallContext context) => weights.GetAsync(context.CancellationToken);

    [Authorize(Policy = PlatformPolicies.AdminOrService)]
    public override async Task<ObjectiveWeights> SetObjectiveWeights(ObjectiveWeights request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        // Of the platform's services, only the ones that carry out governance decisions (Tokenomics) may change them.
        if (!user.IsInRole("admin") && !governance.Value.Clients.Contains(context.Caller()))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{context.Caller()} may not change the objective weights: only admins and {string.Join(", ", governance.Value.Clients)}"));
        var validation = new RequestValidation();
        foreach (var (field, value) in new[] { ("makespan", request.Makespan), ("cost", request.Cost), ("energy", request.Energy), ("sla_lateness", request.SlaLateness), ("imbalance", request.Imbalance) })
            validation.Require(double.IsFinite(value) && value is >= 0 and <= 1000, field, "must be a number between 0 and 1000");
        validation.Require(ObjectiveWeightsStore.InObjectiveOrder(request).Sum() > 0, "weights", "at least one weight must be above 0").ThrowIfInvalid();
        var stored = await weights.SetAsync(request, context.Caller(), clock.GetUtcNow(), context.CancellationToken);
        logger.LogInformation("Objective weights set by {Caller}: {Weights}", context.Caller(), stored);
        return stored;
    }
}

/// <summary>
/// Which of the platform's services may change the scheduler's policy (<c>Scheduler:Governance:Clients</c>; appsettings
/// names <c>tokenomics</c>). No default in code: the configuration binder adds to a list it finds filled, so a default
/// here could never be taken away.
/// </summary>
public sealed class GovernanceOptions
{
    public List<string> Clients { get; set; } = [];
}
