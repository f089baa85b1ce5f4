using Grpc.Core;
using Platform.Compute.Nodes;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Devices;

/// <summary>Idle devices: registration and heartbeats (agent tokens), the harvest decision on each, views and stats.</summary>
public sealed class DeviceService(DeviceStore store, EventPublisher events, TimeProvider clock, ILogger<DeviceService> logger) : V1.Devices.DevicesBase
{
    static readonly string[] Types = ["phone", "tablet", "laptop", "desktop", "iot"];

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<Device> RegisterDevice(RegisterDeviceRequest request, ServerCallContext context)
    {
        new RequestValidation()
            .Require(Guid.TryParse(request.DeviceId, out _), "device_id", "must be a UUID")
            .Require(request.Name.Length is > 0 and <= 128, "name", "must be 1-128 characters")
            .Require(Types.Contains(request.Type), "type", $"must be one of {string.Join(", ", Types)}")
            .Require(request.Owner.Length is > 0 and <= 128, "owner", "must be 1-128 characters")
            .Require(request.CpuCores is > 0 and <= 1024, "cpu_cores", "must be between 1 and 1024")
            .Require(request.MemoryBytes > 0, "memory_bytes", "must be positive")
            .ThrowIfInvalid();
        AgentBinding.EnsureActsFor(context, request.DeviceId);
        var policy = Validated(request.Policy);
        var device = await store.UpsertAsync(request, policy, clock.GetUtcNow(), context.CancellationToken);
        logger.LogInformation("Device {DeviceName} ({DeviceId}) of {Owner} registered: {Type}, {Cores} cores", device.Name, device.DeviceId, device.Owner, device.Type, device.CpuCores);
        return device;
    }

    [Authorize(Policy = PlatformPolicies.Agent)]
    public override async Task<Device> DeviceHeartbeat(DeviceHeartbeatRequest request, ServerCallContext context)
    {
        var deviceId = RequestValidation.RequireGuid(request.DeviceId, "device_id");
        new RequestValidation()
            .Require(request.IdleSeconds >= 0, "idle_seconds", "must not be negative")
            .Require(request.CpuLoad is >= 0 and <= 1, "cpu_load", "must be between 0 and 1")
            .Require(!request.HasBatteryPercent || request.BatteryPercent is >= 0 and <= 100, "battery_percent", "must be between 0 and 100")
            .Require(!request.HasTemperatureC || request.TemperatureC is > -60 and < 150, "temperature_c", "must be a plausible temperature (-60 to 150 °C)")
            .ThrowIfInvalid();
        AgentBinding.EnsureActsFor(context, deviceId.ToString());
        var (device, previous) = await store.HeartbeatAsync(deviceId, request, policy => HarvestPolicies.Decide(policy, request), clock.GetUtcNow(), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Device {deviceId} is not registered."));
        if (device.State != previous)
        {
            logger.LogInformation("Device {DeviceName} ({DeviceId}) is {State}: {Reason}", device.Name, device.DeviceId, device.State, device.StateReason);
            await events.PublishAsync("nodes", $"device.{device.State}", device);
        }
        return device;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListDevicesResponse> ListDevices(ListDevicesRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.State is "" or "offered" or "suspended" or "offline", "state", "must be offered, suspended or offline").ThrowIfInvalid();
        var response = new ListDevicesResponse();
        response.Devices.AddRange(await store.ListAsync(request.State, request.Owner, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Device> GetDevice(DeviceRequest request, ServerCallContext context) =>
        await store.GetAsync(RequestValidation.RequireGuid(request.DeviceId, "device_id"), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Device {request.DeviceId} is not registered."));

    /// <summary>An operator, or the device itself, forgets it; the device stops being offered at once.</summary>
    [Authorize(Policy = PlatformPolicies.AgentOrOperator)]
    public override async Task<Device> UnregisterDevice(DeviceRequest request, ServerCallContext context)
    {
        var deviceId = RequestValidation.RequireGuid(request.DeviceId, "device_id");
        var caller = context.GetHttpContext().User;
        if (!caller.IsInRole("operator") && !caller.IsInRole("admin")) AgentBinding.EnsureActsFor(context, deviceId.ToString());
        var device = await store.DeleteAsync(deviceId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Device {deviceId} is not registered."));
        logger.LogInformation("Device {DeviceName} ({DeviceId}) of {Owner} unregistered by {Caller}", device.Name, device.DeviceId, device.Owner, context.Caller());
        await events.PublishAsync("nodes", "device.unregistered", device);
        return device;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Device> SetHarvestPolicy(SetHarvestPolicyRequest request, ServerCallContext context) =>
        await store.SetPolicyAsync(RequestValidation.RequireGuid(request.DeviceId, "device_id"), Validated(request.Policy), context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Device {request.DeviceId} is not registered."));

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<DeviceStats> GetDeviceStats(GetDeviceStatsRequest request, ServerCallContext context)
    {
        var devices = await store.ListAsync("", "", context.CancellationToken);
        var offered = devices.Where(d => d.State == "offered").ToList();
        var stats = new DeviceStats
        {
            Devices = devices.Count, Offered = offered.Count, Suspended = devices.Count(d => d.State == "suspended"), Offline = devices.Count(d => d.State == "offline"),
            OfferedCpuCores = offered.Sum(d => d.CpuCores), OfferedMemoryBytes = offered.Sum(d => d.MemoryBytes), OfferedHours = devices.Sum(d => d.OfferedHours),
        };
        foreach (var group in devices.GroupBy(d => d.Type)) stats.ByType[group.Key] = group.Count();
        return stats;
    }

    static HarvestPolicy Validated(HarvestPolicy? requested)
    {
        var policy = HarvestPolicies.WithDefaults(requested);
        new RequestValidation()
            .Require(policy.MinIdleMinutes is >= 0 and <= 24 * 60, "policy.min_idle_minutes", "must be between 0 and 1440")
            .Require(policy.MinBatteryPercent is >= 0 and <= 100, "policy.min_battery_percent", "must be between 0 and 100")
            .Require(policy.MaxTemperatureC is > 0 and < 150, "policy.max_temperature_c", "must be between 0 and 150")
            .Require(policy.MaxOwnerCpuLoad is >= 0 and <= 1, "policy.max_owner_cpu_load", "must be between 0 and 1")
            .ThrowIfInvalid();
        return policy;
    }
}

/// <summary>Devices that stopped heartbeating for two minutes are offline: no longer offered.</summary>
public sealed class DeviceSweeper(DeviceStore store, EventPublisher events, TimeProvider clock, ILogger<DeviceSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Silence = TimeSpan.FromMinutes(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(15), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var now = clock.GetUtcNow();
                    foreach (var device in await store.MarkOfflineAsync(now - Silence, now, stoppingToken))
                    {
                        logger.LogInformation("Device {DeviceName} ({DeviceId}) is offline: {Reason}", device.Name, device.DeviceId, device.StateReason);
                        await events.PublishAsync("nodes", "device.offline", device);
                    }
                }
                catch (Npgsql.NpgsqlException ex)
                {
                    logger.LogError(ex, "Sweeping silent devices failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
