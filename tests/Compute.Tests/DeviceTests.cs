using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Platform.Compute.Devices;
using Platform.Compute.V1;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>The harvest policy's decisions, and devices over a real PostgreSQL through the API.</summary>
public sealed class DeviceTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    /// <summary>The device's own agent: its credential is bound to the device id.</summary>
    V1.Devices.DevicesClient Device(string id) => new(host.Channel(TestInfrastructure.Token(id, "agent")));

    static DeviceHeartbeatRequest Beat(long idle, bool charging = true, double? battery = 80, double? temperature = 30, double load = 0.05)
    {
        var heartbeat = new DeviceHeartbeatRequest { IdleSeconds = idle, Charging = charging, CpuLoad = load };
        if (battery is { } b) heartbeat.BatteryPercent = b;
        if (temperature is { } t) heartbeat.TemperatureC = t;
        return heartbeat;
    }

    [Theory]
    [InlineData(600, true, 80.0, 30.0, 0.05, "offered")]
    [InlineData(599, true, 80.0, 30.0, 0.05, "suspended")]   // the owner was here less than 10 minutes ago
    [InlineData(3600, false, 80.0, 30.0, 0.05, "suspended")] // on battery
    [InlineData(3600, true, 40.0, 30.0, 0.05, "suspended")]  // battery low even while charging
    [InlineData(3600, true, 80.0, 46.0, 0.05, "suspended")]  // too hot
    [InlineData(3600, true, 80.0, 30.0, 0.5, "suspended")]   // the owner is busy on it
    [InlineData(3600, false, null, null, 0.05, "offered")]   // a desktop on mains power, no sensors
    public void The_default_policy_offers_only_idle_charged_cool_unused_devices(long idle, bool charging, double? battery, double? temperature, double load, string state) =>
        Assert.Equal(state, HarvestPolicies.Decide(HarvestPolicies.WithDefaults(null), Beat(idle, charging, battery, temperature, load)).State);

    [Fact]
    public async Task A_device_is_offered_when_idle_and_suspended_the_moment_its_owner_returns()
    {
        var id = Guid.NewGuid().ToString();
        var registered = await Device(id).RegisterDeviceAsync(new RegisterDeviceRequest
        {
            DeviceId = id, Name = "ann-phone", Type = "phone", Owner = "ann", CpuCores = 8, MemoryBytes = 6L << 30,
            Policy = new HarvestPolicy { MinIdleMinutes = 5 },
        });
        Assert.Equal(("suspended", 5, 50.0), (registered.State, registered.Policy.MinIdleMinutes, registered.Policy.MinBatteryPercent));

        var idle = Beat(idle: 400);
        idle.DeviceId = id;
        var offered = await Device(id).DeviceHeartbeatAsync(idle);
        var back = Beat(idle: 3);
        back.DeviceId = id;
        var suspended = await Device(id).DeviceHeartbeatAsync(back);

        Assert.Equal("offered", offered.State);
        Assert.Equal("suspended", suspended.State);
        Assert.StartsWith("in use", suspended.StateReason);
        var stats = await new V1.Devices.DevicesClient(host.Channel(TestInfrastructure.Token("ann", "viewer"))).GetDeviceStatsAsync(new GetDeviceStatsRequest());
        Assert.Equal((1, 0, 1), (stats.Devices, stats.Offered, stats.ByType["phone"]));
        Assert.True(stats.OfferedHours > 0);
    }

    [Fact]
    public async Task A_bad_heartbeat_names_its_fields_and_an_unknown_device_is_NotFound()
    {
        var id = Guid.NewGuid().ToString();
        var bad = await Assert.ThrowsAsync<RpcException>(() => Device(id).DeviceHeartbeatAsync(new DeviceHeartbeatRequest { DeviceId = id, CpuLoad = 3, IdleSeconds = -1 }).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Device(id).DeviceHeartbeatAsync(new DeviceHeartbeatRequest { DeviceId = id }).ResponseAsync);
        var another = await Assert.ThrowsAsync<RpcException>(() => Device(id).DeviceHeartbeatAsync(new DeviceHeartbeatRequest { DeviceId = Guid.NewGuid().ToString() }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("cpu_load", bad.Status.Detail);
        Assert.Contains("idle_seconds", bad.Status.Detail);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, another.StatusCode); // a device credential acts for its own device only
    }

    [Fact]
    public async Task The_seed_idle_compute_paths_register_beat_list_and_unregister_and_only_the_device_or_an_operator_may_unregister()
    {
        var id = Guid.NewGuid().ToString();
        var own = host.Http(TestInfrastructure.Token(id, "agent"));
        using (var registered = await own.PostAsJsonAsync("/api/idle-compute/devices", new { deviceId = id, name = "bob-laptop", type = "laptop", owner = "bob", cpuCores = 4, memoryBytes = "8589934592" }))
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        using (var beat = await own.PostAsJsonAsync($"/api/idle-compute/devices/{id}/heartbeat", new { idleSeconds = "900", cpuLoad = 0.01, charging = true, batteryPercent = 90 }))
            Assert.Equal("offered", (await beat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        var viewer = host.Http(TestInfrastructure.Token("ann", "viewer"));
        var listed = await viewer.GetFromJsonAsync<JsonElement>("/api/idle-compute/devices?owner=bob");
        var stats = await viewer.GetFromJsonAsync<JsonElement>("/api/idle-compute/stats");
        Assert.Equal(id, listed.GetProperty("devices")[0].GetProperty("deviceId").GetString());
        Assert.True(stats.GetProperty("offered").GetInt32() >= 1);

        using var byViewer = await viewer.DeleteAsync($"/api/idle-compute/devices/{id}");
        using var byAnotherDevice = await host.Http(TestInfrastructure.Token(Guid.NewGuid().ToString(), "agent")).DeleteAsync($"/api/idle-compute/devices/{id}");
        using var byItself = await own.DeleteAsync($"/api/idle-compute/devices/{id}");
        using var again = await own.DeleteAsync($"/api/idle-compute/devices/{id}");
        using var afterwards = await viewer.GetAsync($"/api/idle-compute/devices/{id}");
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byAnotherDevice.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byItself.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterwards.StatusCode);

        // An operator may forget any device.
        var other = Guid.NewGuid().ToString();
        await Device(other).RegisterDeviceAsync(new RegisterDeviceRequest { DeviceId = other, Name = "pi", Type = "iot", Owner = "bob", CpuCores = 4, MemoryBytes = 1L << 30 });
        var removed = await new V1.Devices.DevicesClient(host.Channel(TestInfrastructure.Token("olga", "operator"))).UnregisterDeviceAsync(new DeviceRequest { DeviceId = other });
        Assert.Equal("pi", removed.Name);
    }
}
