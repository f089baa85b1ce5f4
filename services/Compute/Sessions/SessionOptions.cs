namespace Platform.Compute.Sessions;

/// <summary>Configuration under <c>Compute:Sessions</c>: the quota of users without one of their own, and the applications.</summary>
public sealed class SessionOptions
{
    public QuotaLimits DefaultQuota { get; set; } = new();

    /// <summary>Applications by name: what a session of each runs when the request names no command.</summary>
    public Dictionary<string, ApplicationDefinition> Applications { get; set; } = [];
}

public sealed class QuotaLimits
{
    public int CpuCores { get; set; } = 4;
    public int GpuUnits { get; set; }
    public long MemoryBytes { get; set; } = 8L << 30;
    public int Sessions { get; set; } = 5;
}

public sealed class ApplicationDefinition
{
    public string Command { get; set; } = "";
    public List<string> Args { get; set; } = [];
}

/// <summary>The session would take the user past their quota; the message says which limit.</summary>
public sealed class QuotaExceededException(string message) : Platform.ServiceDefaults.Grpc.NoRoomException("QUOTA_EXCEEDED", message);
