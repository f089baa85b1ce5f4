namespace Platform.Compute.Nodes;

/// <summary>Whether a node may take work: admitted at once, or pending until an operator admits or rejects it.</summary>
public static class NodeAdmissions
{
    public const string Admitted = "admitted";
    public const string Pending = "pending";
    public const string Rejected = "rejected";
}

/// <summary>A node's status from its lease (Kubernetes' node conditions): Ready, NotReady once it lapses, Down after the grace period.</summary>
public static class NodeStatuses
{
    public const string Ready = "Ready";
    public const string NotReady = "NotReady";
    public const string Down = "Down";
}
