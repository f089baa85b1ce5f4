namespace Platform.Compute.Devices;

public static class DeviceExtensions
{
    public static IHostApplicationBuilder AddDevices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DeviceStore>();
        builder.Services.AddHostedService<DeviceSweeper>();
        return builder;
    }
}
