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

    /// <summary>The staking, unbonding and rewards pools hold exactly what staking's records say they owe: only staking moves them.</summary>
    static readonly string[] StakingPools = [SystemAccounts.StakingPool, SystemAccounts.UnbondingPool, SystemAccounts.RewardsPool];

    /// <summary>Escrow holds what the platform's services put there; the staking pools are staking's own.</summary>
    public static void EnsureMayCredit(ClaimsPrincipal user, string accountId)
    {
        if (StakingPools.Contains(accountId))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{accountId} is moved only by staking (stake, unstake, rewards)"));
        if (IsService(user) || accountId != SystemAccounts.Escrow) return;
        throw new RpcException(new Status(StatusCode.PermissionDenied, $"only the platform's services pay into {accountId}"));
    }

    /// <summary>
    /// Owners move their own funds; admins the treasury's and the nodes' operator accounts' (commission and rewards,
    /// which no person's token names); services any account but the staking pools.
    /// </summary>
    public static void EnsureMayDebit(ClaimsPrincipal user, string accountId)
    {
        if (StakingPools.Contains(accountId))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{accountId} is moved only by staking (stake, unstake, rewards)"));
        if (IsService(user) || accountId == SystemAccounts.User(Callers.Name(user))) return;
        if (user.IsInRole("admin") && (accountId == SystemAccounts.Treasury || accountId.StartsWith("operator:", StringComparison.Ordinal))) return;
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
