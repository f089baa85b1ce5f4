namespace Platform.AppHost.Hosting;

/// <summary>
/// The AppHost's command line: <c>--fresh</c> (wipe the data folder first), <c>--data-dir PATH</c>,
/// <c>--gateway-port N</c> (0: any free port), <c>--gateway-https-port N</c> (likewise), <c>--nodes N</c>,
/// <c>--ready-file PATH</c> (written once all is healthy), <c>--health-timeout SECONDS</c>, <c>--socks-port N</c> (the onion
/// network's SOCKS5 entry on 127.0.0.1; 9050 like Tor's; 0: any free port), <c>--web-port N</c> (the control panel on
/// 127.0.0.1; 3000 like Next.js; 0: any free port), <c>--no-web</c> (no control panel).
/// </summary>
public sealed record AppHostOptions(
    bool Fresh, string DataDirectory, int GatewayPort, int NodeCount, string? ReadyFile, TimeSpan HealthTimeout, int GatewayHttpsPort = 8443, int SocksPort = 9050,
    int WebPort = 3000)
{
    public static AppHostOptions Parse(string[] args)
    {
        var fresh = false;
        string? dataDirectory = null, readyFile = null;
        var gatewayPort = int.TryParse(Environment.GetEnvironmentVariable("Gateway__Port"), out var envPort) ? envPort : 8080;
        var httpsPort = int.TryParse(Environment.GetEnvironmentVariable("Gateway__HttpsPort"), out var envHttpsPort) ? envHttpsPort : 8443;
        var socksPort = int.TryParse(Environment.GetEnvironmentVariable("Privacy__SocksPort"), out var envSocksPort) ? envSocksPort : 9050;
        var webPort = int.TryParse(Environment.GetEnvironmentVariable("Web__Port"), out var envWebPort) ? envWebPort : 3000;
        var nodes = 2;
        var healthTimeout = TimeSpan.FromSeconds(60);

        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new AppHostException($"{args[i]} needs a value");
            int Number(int min, int max)
            {
                var name = args[i];
                return int.TryParse(Value(), out var n) && n >= min && n <= max ? n : throw new AppHostException($"{name} must be a number from {min} to {max}");
            }
            switch (args[i])
            {
                case "--fresh": fresh = true; break;
                case "--data-dir": dataDirectory = Value(); break;
                case "--gateway-port": gatewayPort = Number(0, 65535); break;
                case "--gateway-https-port": httpsPort = Number(0, 65535); break;
                case "--nodes": nodes = Number(0, 64); break;
                case "--ready-file": readyFile = Value(); break;
                case "--health-timeout": healthTimeout = TimeSpan.FromSeconds(Number(1, 3600)); break;
                case "--socks-port": socksPort = Number(0, 65535); break;
                case "--web-port": webPort = Number(0, 65535); break;
                case "--no-web": webPort = NoWeb; break;
                default: throw new AppHostException($"unknown argument '{args[i]}' (known: --fresh, --data-dir, --gateway-port, --gateway-https-port, --nodes, --ready-file, --health-timeout, --socks-port, --web-port, --no-web)");
            }
        }

        return new(fresh, Path.GetFullPath(dataDirectory ?? Path.Combine(FindCheckout(), ".platform")), gatewayPort, nodes,
            readyFile is null ? null : Path.GetFullPath(readyFile), healthTimeout, httpsPort, socksPort, webPort);
    }

    /// <summary>The <see cref="WebPort"/> of a platform without its control panel.</summary>
    public const int NoWeb = -1;

    /// <summary>
    /// The control panel's sources: <c>web/</c> in the checkout holding Platform.sln, else none — never a <c>web/</c>
    /// found beside whatever directory the AppHost was started from, whose code it would then build and run.
    /// </summary>
    public static string? WebDirectory =>
        FindCheckout() is var checkout && File.Exists(Path.Combine(checkout, "Platform.sln")) && Directory.Exists(Path.Combine(checkout, "web"))
            ? Path.Combine(checkout, "web")
            : null;

    /// <summary>The checkout holding Platform.sln above the AppHost's binaries, else the working directory.</summary>
    static string FindCheckout()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
                return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}

/// <summary>A failure the AppHost reports as one clear line before exiting non-zero.</summary>
public sealed class AppHostException(string message) : Exception(message);
