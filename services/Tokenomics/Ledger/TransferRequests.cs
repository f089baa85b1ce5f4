using System.Globalization;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>
/// The rules a transfer request must meet, checked before anything is read or written: each fails with
/// InvalidArgument naming every bad field. The request becomes a transfer row with a canonical payload, which tells a
/// replay (same payload) from a conflict (same key, another payload).
/// </summary>
public static partial class TransferRequests
{
    /// <summary>A thousand million tokens of 10^6 units each: past any real amount, far from overflowing a sum.</summary>
    public const long MaxAmount = 1_000_000_000_000_000;
    static readonly TimeSpan DefaultTimeout = TimeSpan.FromHours(1);
    static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(30);

    /// <summary>
    /// <paramref name="caller"/> is the token's name, <paramref name="requester"/> the name a transfer is recorded
    /// under (<c>user:</c> or <c>service:</c>); a service names the account it debits, a person defaults to their own.
    /// </summary>
    public static TransferRow Transfer(CreateTransferRequest request, string caller, string requester, DateTimeOffset now, string prefix = "")
    {
        var isService = requester.StartsWith("service:", StringComparison.Ordinal);
        var debit = request.DebitAccountId == "" && !isService ? SystemAccounts.User(caller) : request.DebitAccountId;
        var timeout = request.TimeoutSeconds == 0 ? DefaultTimeout : TimeSpan.FromSeconds(Math.Clamp(request.TimeoutSeconds, 0, (long)MaxTimeout.TotalSeconds + 1));
        Check(new RequestValidation(), request.IdempotencyKey, request.Amount, request.Memo, prefix)
            .Require(IsAccount(debit) && debit != SystemAccounts.Issuance, $"{prefix}debit_account_id", "must be an account (user:<name>, operator:<node>, treasury, escrow); new tokens come only from mint")
            .Require(IsAccount(request.CreditAccountId) && request.CreditAccountId != SystemAccounts.Issuance, $"{prefix}credit_account_id", "must be an account (user:<name>, operator:<node>, treasury, escrow); tokens leave supply only by burn")
            .Require(debit != request.CreditAccountId, $"{prefix}credit_account_id", "must differ from the debit account")
            .Require(request.TimeoutSeconds == 0 || request.Pending && request.TimeoutSeconds > 0 && timeout <= MaxTimeout, $"{prefix}timeout_seconds",
                "only for a pending transfer: 1 to 2592000 (30 days); default 3600")
            .ThrowIfInvalid();
        return Row(TransferKinds.Transfer, requester, request.IdempotencyKey, debit, request.CreditAccountId, request.Amount, request.Memo, now,
            request.Pending ? now + timeout : null, $"{request.Pending}|{(long)timeout.TotalSeconds}");
    }

    public static TransferRow Mint(MintRequest request, string requester, DateTimeOffset now)
    {
        var credit = request.CreditAccountId == "" ? SystemAccounts.Treasury : request.CreditAccountId;
        Check(new RequestValidation(), request.IdempotencyKey, request.Amount, request.Memo, "")
            .Require(IsAccount(credit) && credit != SystemAccounts.Issuance, "credit_account_id", "must be an account other than issuance (default treasury)")
            .ThrowIfInvalid();
        return Row(TransferKinds.Mint, requester, request.IdempotencyKey, SystemAccounts.Issuance, credit, request.Amount, request.Memo, now, null, "");
    }

    public static TransferRow Burn(BurnRequest request, string caller, string requester, DateTimeOffset now)
    {
        var debit = request.DebitAccountId == "" && !requester.StartsWith("service:", StringComparison.Ordinal) ? SystemAccounts.User(caller) : request.DebitAccountId;
        Check(new RequestValidation(), request.IdempotencyKey, request.Amount, request.Memo, "")
            .Require(IsAccount(debit) && debit != SystemAccounts.Issuance, "debit_account_id", "must be an account other than issuance (default the caller's own)")
            .ThrowIfInvalid();
        return Row(TransferKinds.Burn, requester, request.IdempotencyKey, debit, SystemAccounts.Issuance, request.Amount, request.Memo, now, null, "");
    }

    /// <summary>
    /// A movement the ledger makes itself, inside a larger operation's transaction (a stake's, an epoch's, a slash's):
    /// recorded as made by <c>service:tokenomics</c>, under <paramref name="key"/> when the operation has one (so a
    /// replay of it finds its first result), else a fresh one.
    /// </summary>
    public static TransferRow Internal(string kind, string debit, string credit, long amount, string memo, DateTimeOffset now, string? requester = null, string? key = null) =>
        Row(kind, requester ?? "service:tokenomics", key ?? $"{kind}-{Guid.CreateVersion7(now)}", debit, credit, amount, memo, now, null, "");

    /// <summary>Compute's rule for a node's name.</summary>
    public static bool IsNodeName(string node) => PersonalAccount().IsMatch($"operator:{node}");

    public static bool IsAccount(string id) => SystemAccounts.All.Contains(id) || PersonalAccount().IsMatch(id);

    static RequestValidation Check(RequestValidation validation, string key, long amount, string memo, string prefix) => validation
        .Require(key.Length is > 0 and <= 128, $"{prefix}idempotency_key",
            $"is required{(prefix == "" ? " (or the Idempotency-Key header)" : "")}: 1-128 characters, unique per caller (a retry with the same key moves nothing twice)")
        .Require(amount is > 0 and <= MaxAmount, $"{prefix}amount", $"must be between 1 and {MaxAmount.ToString(CultureInfo.InvariantCulture)} (the token's smallest unit)")
        .Require(memo.Length <= 256, $"{prefix}memo", "at most 256 characters");

    static TransferRow Row(string kind, string caller, string key, string debit, string credit, long amount, string memo, DateTimeOffset now,
        DateTimeOffset? timeout, string extra) => new()
    {
        TransferId = Guid.CreateVersion7(now), RequestedBy = caller, IdempotencyKey = key, DebitAccountId = debit, CreditAccountId = credit, Amount = amount,
        Kind = kind, State = timeout is null ? TransferStates.Posted : TransferStates.Pending, Memo = memo, CreatedAt = now, TimeoutAt = timeout,
        ResolvedAt = null, Payload = string.Join('\u001f', kind, debit, credit, amount.ToString(CultureInfo.InvariantCulture), memo, extra),
    };

    // The gateway's username rule and Compute's node-name rule, to the end of the text (\z: no trailing newline).
    [GeneratedRegex(@"^(?:user:[a-z0-9][a-z0-9._-]{0,63}|operator:[a-z0-9][a-z0-9.-]{0,62})\z")]
    private static partial Regex PersonalAccount();
}
