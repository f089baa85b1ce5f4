using System.Security.Claims;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Realtime;

/// <summary>
/// The topics of <c>/ws/realtime</c> (DESIGN's list, plus <c>audit</c>) and who may see each: services publish on
/// <c>platform.events.&lt;topic&gt;</c>, and the hub carries what they publish to the browsers allowed to see it.
/// </summary>
public static class RealtimeTopics
{
    static readonly string[] Everyone = ["viewer", "operator", "admin"];
    static readonly string[] Operators = ["operator", "admin"];

    public static readonly IReadOnlyDictionary<string, string[]> RolesFor = new Dictionary<string, string[]>
    {
        ["metrics"] = Everyone,
        ["alerts"] = Everyone,
        ["nodes"] = Everyone,
        ["workloads"] = Everyone,
        // Jobs are their owners' (a viewer sees only its own through the API): their events are for operators.
        ["jobs"] = Operators,
        // Who paid whom is the two accounts' business (the API shows an account to its owner and admins only).
        ["ledger"] = ["admin"],
        ["governance"] = Everyone,
        ["circuits"] = Everyone,
        ["audit"] = ["admin"],
    };

    /// <summary>The lowest role that sees <paramref name="topic"/>, for error messages.</summary>
    public static string RoleNeeded(string topic) => RolesFor[topic][0];

    public static bool MaySee(ClaimsPrincipal user, string topic) =>
        RolesFor.TryGetValue(topic, out var roles) && roles.Any(user.IsInRole);

    /// <summary>Whether <paramref name="user"/> may open the hub at all (any topic).</summary>
    public static bool MayConnect(ClaimsPrincipal user) => Everyone.Any(user.IsInRole) && Callers.Name(user) != "anonymous";
}
