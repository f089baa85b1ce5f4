using Grpc.Core;
using Platform.ServiceDefaults.Auth;
using Platform.Tokenomics.Ledger;

namespace Platform.Tokenomics.Staking;

/// <summary>Whose staking a call is about: people stake their own; admins and services may read anyone's.</summary>
public static class Delegators
{
    /// <summary>Stakes belong to people: the token's user. A service has no account to stake from.</summary>
    public static string Person(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        if (LedgerAccess.IsService(user)) throw new RpcException(new Status(StatusCode.PermissionDenied, "services do not stake: only people, from their own account"));
        return Callers.Name(user);
    }

    /// <summary>Whose staking to show: the caller's own, or (admins) the one named.</summary>
    public static string Subject(ServerCallContext context, string delegator)
    {
        var user = context.GetHttpContext().User;
        if (delegator == "" || delegator == Callers.Name(user)) return Callers.Name(user);
        if (!user.IsInRole("admin") && !LedgerAccess.IsService(user))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{Callers.Name(user)} may not read {delegator}'s staking: only their own"));
        return delegator;
    }
}
