using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Inspection;

public static class NodeInspectionExtensions
{
    public static IHostApplicationBuilder AddNodeInspection(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpc();
        builder.Services.AddSingleton<NodeHealthChecks>();
        return builder;
    }
}
