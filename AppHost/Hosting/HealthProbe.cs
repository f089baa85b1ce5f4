namespace Platform.AppHost.Hosting;

/// <summary>Waits for a started process to answer 200 on its health URL, or says why it never did.</summary>
static class HealthProbe
{
    static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(2) };

    public static async Task WaitAsync(string name, string url, ChildProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.Exited.IsCompleted)
                throw new AppHostException($"{name} exited with code {process.Exited.Result} before it became healthy; its last lines:{Environment.NewLine}{process.LastLines()}");
            if (DateTime.UtcNow > deadline)
                throw new AppHostException($"{name} did not become healthy within {timeout.TotalSeconds:F0} s ({url})");
            try
            {
                using var response = await Client.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
            await Task.Delay(150, cancellationToken);
        }
    }
}
