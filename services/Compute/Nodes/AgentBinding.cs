using Grpc.Core;
using Platform.ServiceDefaults.Auth;

namespace Platform.Compute.Nodes;

/// <summary>
/// An agent's credential is bound to the node (or idle device) it was issued for: its token's subject is that name,
/// and it may act for nothing else — not register another node's name, renew its lease, read its assignments or
/// report for it. A fleet's token (issued for a prefix, <c>edge-*</c>) acts for every name with that prefix. The
/// platform's own services may act for any.
/// </summary>
public static class AgentBinding
{
    public static void EnsureActsFor(ServerCallContext context, string name)
    {
        var caller = context.GetHttpContext().User;
        if (caller.IsInRole("service")) return;
        if (!Callers.ActsFor(caller, name))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"This agent's credential is for {Callers.Name(caller)}; it cannot act for {name}."));
    }
}
