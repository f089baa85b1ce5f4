using System.Reflection;

namespace Platform.NodeAgent.Identity;

/// <summary>
/// Who this agent is: a stable node id kept in its state folder (so a restarted agent is the same node), the node's
/// name (configured, else the host name) and the agent's version.
/// </summary>
public sealed record NodeIdentity(Guid NodeId, string Name, string Hostname, string StateDirectory, string AgentVersion)
{
    public static NodeIdentity LoadOrCreate(NodeAgentOptions options)
    {
        var hostname = Environment.MachineName.ToLowerInvariant();
        var name = string.IsNullOrWhiteSpace(options.Name) ? hostname : options.Name.Trim().ToLowerInvariant();
        var stateDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(options.StateDirectory)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "platform-node-agent", name)
            : options.StateDirectory);
        Directory.CreateDirectory(stateDirectory);

        var idFile = Path.Combine(stateDirectory, "node-id");
        if (!File.Exists(idFile) || !Guid.TryParse(File.ReadAllText(idFile).Trim(), out var nodeId))
        {
            nodeId = Guid.NewGuid();
            var temporary = idFile + ".tmp";
            File.WriteAllText(temporary, nodeId.ToString());
            File.Move(temporary, idFile, overwrite: true);
        }

        var version = typeof(NodeIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        return new(nodeId, name, hostname, stateDirectory, version.Split('+')[0]);
    }
}

/// <summary>Configuration under <c>NodeAgent</c>.</summary>
public sealed class NodeAgentOptions
{
    public string? Name { get; set; }
    public string? StateDirectory { get; set; }
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(5);
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>The URL Compute uses to reach this agent's API; default: its gRPC endpoint (Kestrel:Endpoints:grpc:Url).</summary>
    public string? AdvertiseUrl { get; set; }
}

public static class NodeIdentityExtensions
{
    public static IHostApplicationBuilder AddNodeIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<NodeAgentOptions>(builder.Configuration.GetSection("NodeAgent"));
        builder.Services.AddSingleton(sp => NodeIdentity.LoadOrCreate(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<NodeAgentOptions>>().Value));
        // Tokens sent to this agent are for this node alone (node-agent:<name>): none meant for a service or another
        // node is accepted here, and none accepted here opens anything else.
        builder.Services.AddOptions<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>(Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme)
            .Configure<NodeIdentity>((options, identity) => options.TokenValidationParameters.ValidAudience = Platform.ServiceDefaults.Auth.PlatformTokens.NodeAgentAudience(identity.Name));
        return builder;
    }
}
