using System.Security.Claims;
using Grpc.Core;
using Platform.ServiceDefaults.Auth;

namespace Platform.Tokenomics.Ledger;

/// <summary>
/// Who may move and read what: an account's owner (the token's user, <c>user:&lt;name&gt;</c>) its own funds; admins
/// the treasury's; the platform's services any account (they act for the platform: rewards, a job's price). Reading
/// another's account is for admins and services.
/// </summary>
public static class LedgerAccess
{
    public static bool IsService(ClaimsPrincipal user) => user.IsInRole("service");

    /// <summary>
    /// Who a transfer is recorded as made by: <c>service:&lt;name&gt;</c> or <c>user:&lt;name&gt;</c>. People and services
    /// share no name space, so a user named like a service neither holds its idempotency keys nor resolves its transfers.
    /// </summary>
    public static string Requester(ClaimsPrincipal user) => $"{(IsService(user) ? "service" : "user")}:{Callers.Name(user)}";

    /// <summary>The staking pool and escrow hold what their own records say: only services pay into them.</summary>
    public static void EnsureMayCredit(ClaimsPrincipal user, string accountId)
    {
        if (IsService(user) || accountId is not (SystemAccounts.StakingPool or SystemAccounts.Escrow)) return;
        throw new RpcException(new Status(StatusCode.PermissionDenied, $"only the platform's services pay into {accountId}"));
    }

    public static void EnsureMayDebit(ClaimsPrincipal user, string accountId)
    {
        if (IsService(user) || accountId == SystemAccounts.User(Callers.Name(user)) || accountId == SystemAccounts.Treasury && user.IsInRole("admin")) return;
        throw new RpcException(new Status(StatusCode.PermissionDenied, $"{Callers.Name(user)} may not move the funds of {accountId}: only its owner"));
    }

    public static void EnsureMayRead(ClaimsPrincipal user, string accountId)
    {
        if (IsService(user) || user.IsInRole("admin") || accountId == SystemAccounts.User(Callers.Name(user))) return;
        throw new RpcException(new Status(StatusCode.PermissionDenied, $"{Callers.Name(user)} may not read {accountId}: only its owner and admins"));
    }

    /// <summary>A pending transfer is posted or voided by whoever made it, or by a service.</summary>
    public static void EnsureMayResolve(ClaimsPrincipal user, TransferRow transfer)
    {
        if (IsService(user) || transfer.RequestedBy == Requester(user)) return;
        throw new RpcException(new Status(StatusCode.PermissionDenied, $"{Callers.Name(user)} may not resolve transfer {transfer.TransferId}: only who made it"));
    }
}
