using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// Logs in at the gateway before the first request and again whenever a request comes back 401; a request that
/// carries its own Authorization is sent as it is. A refused login says what the platform logged about errors
/// (<paramref name="errors"/>), so a failure under load can be told apart from a wrong password.
/// </summary>
sealed class LoginHandler(Uri gateway, string username, string password, Func<string>? errors = null) : DelegatingHandler
{
    readonly SemaphoreSlim gate = new(1, 1);
    string? token;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is not null) return await base.SendAsync(request, cancellationToken);
        request.Headers.Authorization = new("Bearer", token ?? await LoginAsync(null, cancellationToken));
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        var refused = request.Headers.Authorization.Parameter;
        response.Dispose();
        var retry = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version };
        foreach (var header in request.Headers) retry.Headers.TryAddWithoutValidation(header.Key, header.Value);
        retry.Headers.Authorization = new("Bearer", await LoginAsync(refused, cancellationToken));
        return await base.SendAsync(retry, cancellationToken);
    }

    async Task<string> LoginAsync(string? refused, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (token is not null && token != refused) return token;
            using var login = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "/api/auth/login")) { Content = JsonContent.Create(new { username, password }) };
            using var response = await base.SendAsync(login, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"login as {username} failed: {(int)response.StatusCode} {body}\nwhat the platform logged as errors:\n{errors?.Invoke()}");
            return token = JsonDocument.Parse(body).RootElement.GetProperty("accessToken").GetString()!;
        }
        finally
        {
            gate.Release();
        }
    }
}
