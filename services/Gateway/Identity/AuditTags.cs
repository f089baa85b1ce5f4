namespace Platform.Gateway.Identity;

/// <summary>
/// What an identity route names for the audit log (in <c>HttpContext.Items</c>): the account a login tried, the user
/// or token it changed. The audit recorder reads them once the request is answered; they live here so identity never
/// depends on the audit log, which depends on identity.
/// </summary>
public static class AuditTags
{
    public const string ActorItem = "audit.actor", TargetItem = "audit.target";
}
