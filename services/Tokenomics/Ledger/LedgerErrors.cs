using System.Globalization;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Tokenomics.Ledger;

/// <summary>The debit account has less available than the amount: 409, with what it has.</summary>
public sealed class InsufficientFundsException(string accountId, long available, long amount)
    : ConflictException("INSUFFICIENT_FUNDS", $"account {accountId} has {available} available, less than {amount}")
{
    public override IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["account_id"] = accountId, ["available"] = available.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>The idempotency key was used before for another request: 409 (a replay of the same request answers its first result).</summary>
public sealed class IdempotencyConflictException(string key, Guid transferId)
    : DuplicateException("IDEMPOTENCY_CONFLICT", $"idempotency key '{key}' was used for another request (transfer {transferId})");

/// <summary>A pending transfer's resolution its state no longer allows (post a voided one): 409 with its state.</summary>
public sealed class TransferStateException(Guid transferId, string state, string wanted)
    : ConflictException("TRANSFER_STATE", $"transfer {transferId} is {state}: it cannot be {wanted}")
{
    public override IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string> { ["state"] = state };
}
