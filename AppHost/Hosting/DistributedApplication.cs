using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Platform.AppHost.Hosting;

/// <summary>
/// Runs the model: starts each resource once everything it waits for is healthy, prints the platform's address when
/// all are up, and on Ctrl+C or SIGTERM — or when one fails — stops them in the reverse order of their start.
/// </summary>
public sealed class DistributedApplication(AppHostOptions options, IReadOnlyList<Resource> resources)
{
    readonly ResourceConsole console = new();

    public static DistributedApplicationBuilder CreateBuilder(string[] args)
    {
        try
        {
            return new DistributedApplicationBuilder(AppHostOptions.Parse(args));
        }
        catch (AppHostException ex)
        {
            Console.Error.WriteLine($"apphost: {ex.Message}");
            Environment.Exit(2);
            throw;
        }
    }

    public async Task<int> RunAsync()
    {
        console.Register("apphost");
        foreach (var resource in resources) console.Register(resource.Name);

        using var stop = new CancellationTokenSource();
        var failure = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = new RunContext(options, console, (resource, reason) => failure.TrySetResult(reason));
        void OnStopSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            run.BeginStopping();
            stop.Cancel();
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);

        var started = new List<Resource>();
        var exitCode = 0;
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (var project in resources.OfType<ProjectResource>()) project.AllocatePorts();
            if (options.Fresh && Directory.Exists(Path.Combine(options.DataDirectory, "nodes")))
                Directory.Delete(Path.Combine(options.DataDirectory, "nodes"), recursive: true);

            await StartAllAsync(run, started, stop.Token);
            Summarize(clock.Elapsed);

            var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            if (await Task.WhenAny(failure.Task, stopped) == failure.Task)
            {
                console.AppHost($"error: {failure.Task.Result}");
                exitCode = 1;
            }
        }
        catch (AppHostException ex)
        {
            console.AppHost($"error: {ex.Message}");
            exitCode = 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            console.AppHost("stop requested during start");
        }
        finally
        {
            run.BeginStopping();
            await StopAllAsync(started);
        }
        return exitCode;
    }

    async Task StartAllAsync(RunContext run, List<Resource> started, CancellationToken stopToken)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stopToken);
        var healthy = resources.ToDictionary(r => r, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var starts = resources.Select(async resource =>
        {
            try
            {
                foreach (var dependency in resource.Dependencies)
                    await healthy[dependency].Task.WaitAsync(abort.Token);
                lock (started) started.Add(resource);
                await resource.StartAsync(run, abort.Token);
                healthy[resource].SetResult();
            }
            catch (Exception ex)
            {
                healthy[resource].TrySetException(ex);
                abort.Cancel();
                if (ex is OperationCanceledException or AppHostException) throw;
                throw new AppHostException($"{resource.Name}: {ex.Message}");
            }
        }).ToList();

        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            stopToken.ThrowIfCancellationRequested();
            throw starts.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException).OfType<AppHostException>().FirstOrDefault()
                ?? new AppHostException("start aborted");
        }
    }

    async Task StopAllAsync(List<Resource> started)
    {
        List<Resource> order;
        lock (started) order = [.. started];
        order.Reverse();
        foreach (var resource in order)
        {
            try
            {
                await resource.StopAsync();
            }
            catch (Exception ex)
            {
                console.AppHost($"{resource.Name} did not stop cleanly: {ex.Message}");
            }
        }
        if (order.Count > 0) console.AppHost("stopped");
    }

    void Summarize(TimeSpan elapsed)
    {
        var gateway = resources.OfType<ProjectResource>().FirstOrDefault(p => p.Name == "gateway");
        console.AppHost($"all {resources.Count} resources healthy in {elapsed.TotalSeconds:F1} s");
        foreach (var resource in resources)
            console.AppHost($"  {resource.Name,-12} {resource.State,-9} {resource.Describe()}");
        if (gateway is not null)
            console.AppHost($"gateway: {gateway.HttpUrl}{(gateway.HttpsUrl is { } https ? $" and {https}" : "")}   (Ctrl+C stops everything)");
        var web = resources.OfType<NextAppResource>().FirstOrDefault();
        if (web is not null)
            console.AppHost($"web:     {web.Url}   (the control panel; it talks to the gateway only)");
        var announcements = resources.OfType<ProjectResource>().SelectMany(p => p.Announcements.Select(line => line())).ToList();
        foreach (var line in announcements) console.AppHost(line);

        if (options.ReadyFile is { } readyFile)
        {
            var ready = new
            {
                gateway = gateway?.HttpUrl,
                gatewayHttps = gateway?.HttpsUrl,
                web = web?.Url,
                startupSeconds = Math.Round(elapsed.TotalSeconds, 2),
                announcements,
                resources = resources.ToDictionary(r => r.Name, r => new
                {
                    state = r.State.ToString(),
                    endpoints = r.Describe(),
                    http = (r as ProjectResource)?.HttpUrl,
                    pid = (r as ProjectResource)?.ProcessId,
                }),
            };
            var temporary = readyFile + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(ready, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            File.Move(temporary, readyFile, overwrite: true);
        }
    }
}
