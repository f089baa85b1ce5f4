using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Registration;

public static class NodeRegistrationExtensions
{
    public static IHostApplicationBuilder AddNodeRegistration(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpcClient<Compute.V1.Compute.ComputeClient>("compute");
        builder.Services.AddSingleton<RegistrationState>();
        builder.Services.AddHostedService<NodeRegistration>();
        builder.Services.AddHealthChecks().AddCheck<RegistrationHealthCheck>("registration");
        return builder;
    }
}
