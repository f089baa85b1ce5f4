using System.Globalization;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Parameters;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Governance;

/// <summary>
/// What a proposal may say, checked when it is made — so that one which passes can be carried out: a parameter known
/// here with a value in its range, or objective weights the Scheduler accepts (each 0 to 1000, not all 0).
/// </summary>
public static class ProposalRules
{
    const int MaxActions = 10;

    public static void Validate(CreateProposalRequest request)
    {
        var validation = new RequestValidation()
            .Require(request.Title.Trim().Length is > 0 and <= 200, "title", "is required: 1-200 characters")
            .Require(request.Description.Length <= 10_000, "description", "at most 10,000 characters")
            .Require(request.Actions.Count is > 0 and <= MaxActions, "actions", $"1 to {MaxActions} actions, each objective_weights or parameter");
        for (var i = 0; i < request.Actions.Count; i++)
        {
            var action = request.Actions[i];
            var field = $"actions[{i}]";
            switch (action.ChangeCase)
            {
                case ProposalAction.ChangeOneofCase.Parameter:
                    var definition = PlatformParameters.Find(action.Parameter.Name);
                    validation.Require(definition is not null, $"{field}.parameter.name",
                        $"must be one of {string.Join(", ", PlatformParameters.All.Select(d => d.Name))}");
                    if (definition is not null)
                        validation.Require(TryValue(action.Parameter, out var value) && value >= definition.Min && value <= definition.Max, $"{field}.parameter.value",
                            $"must be a decimal from {definition.Min.ToString(CultureInfo.InvariantCulture)} to {definition.Max.ToString(CultureInfo.InvariantCulture)}");
                    break;
                case ProposalAction.ChangeOneofCase.ObjectiveWeights:
                    var w = action.ObjectiveWeights;
                    double[] weights = [w.Makespan, w.Cost, w.Energy, w.SlaLateness, w.Imbalance];
                    validation.Require(weights.All(x => double.IsFinite(x) && x is >= 0 and <= 1000) && weights.Sum() > 0, $"{field}.objective_weights",
                        "each weight (makespan, cost, energy, sla_lateness, imbalance) from 0 to 1000, at least one above 0");
                    break;
                default:
                    validation.Require(false, field, "must be objective_weights or parameter");
                    break;
            }
        }
        validation.ThrowIfInvalid();
    }

    public static decimal Value(ParameterChange change) => decimal.Parse(change.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    static bool TryValue(ParameterChange change, out decimal value) =>
        decimal.TryParse(change.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
}
