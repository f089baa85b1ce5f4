using Platform.Compute.V1;

namespace Platform.Compute.Devices;

/// <summary>
/// The harvest decision, after HTCondor's START and SUSPEND expressions: a device is offered when every START condition
/// holds and suspended the moment one does not — first of all when its owner is back (it is no longer idle long enough).
/// </summary>
public static class HarvestPolicies
{
    public static HarvestPolicy WithDefaults(HarvestPolicy? policy)
    {
        var p = policy?.Clone() ?? new HarvestPolicy();
        if (!p.HasMinIdleMinutes) p.MinIdleMinutes = 10;
        if (!p.HasMinBatteryPercent) p.MinBatteryPercent = 50;
        if (!p.HasMaxTemperatureC) p.MaxTemperatureC = 45;
        if (!p.HasMaxOwnerCpuLoad) p.MaxOwnerCpuLoad = 0.25;
        return p;
    }

    /// <summary>offered or suspended, and the first reason in the policy's words.</summary>
    public static (string State, string Reason) Decide(HarvestPolicy policy, DeviceHeartbeatRequest heartbeat)
    {
        if (heartbeat.IdleSeconds < policy.MinIdleMinutes * 60L)
            return ("suspended", $"in use: idle {heartbeat.IdleSeconds} s, needs {policy.MinIdleMinutes} min");
        if (!policy.AllowOnBattery && !heartbeat.Charging && heartbeat.HasBatteryPercent)
            return ("suspended", "on battery: offered only while charging");
        if (heartbeat.HasBatteryPercent && heartbeat.BatteryPercent < policy.MinBatteryPercent)
            return ("suspended", $"battery {heartbeat.BatteryPercent:F0}% below {policy.MinBatteryPercent:F0}%");
        if (heartbeat.HasTemperatureC && heartbeat.TemperatureC > policy.MaxTemperatureC)
            return ("suspended", $"temperature {heartbeat.TemperatureC:F1} °C above {policy.MaxTemperatureC:F1} °C");
        if (heartbeat.CpuLoad > policy.MaxOwnerCpuLoad)
            return ("suspended", $"owner's load {heartbeat.CpuLoad:F2} above {policy.MaxOwnerCpuLoad:F2}");
        return ("offered", $"idle {heartbeat.IdleSeconds / 60} min{(heartbeat.Charging ? ", charging" : "")}");
    }
}
