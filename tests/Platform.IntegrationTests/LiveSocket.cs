using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>A WebSocket client of the gateway's live endpoints (<c>/ws/realtime</c>, the seeds' views), as a browser would hold one.</summary>
public static class LiveSocket
{
    /// <summary>Connects to <paramref name="path"/> with the admin's token in the Authorization header.</summary>
    public static async Task<ClientWebSocket> ConnectAsync(PlatformProcess platform, string path, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {await AdminTokenAsync(platform)}");
        await socket.ConnectAsync(new UriBuilder(platform.Gateway) { Scheme = "ws", Path = path }.Uri, cancellationToken);
        return socket;
    }

    public static async Task<string> AdminTokenAsync(PlatformProcess platform)
    {
        using var anonymous = platform.CreateAnonymousHttpClient();
        using var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = platform.AdminPassword });
        login.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString()!;
    }

    public static Task SendAsync(ClientWebSocket socket, object message, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>Reads messages (keeping each one's text in <paramref name="seen"/>) until one is <paramref name="wanted"/>.</summary>
    public static async Task<JsonElement> ReceiveUntilAsync(ClientWebSocket socket, List<string> seen, Func<JsonElement, bool> wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(chunk.AsMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close) throw new WebSocketException($"the hub closed: {socket.CloseStatusDescription}");
                buffer.Write(chunk, 0, result.Count);
            }
            while (!result.EndOfMessage);
            var text = Encoding.UTF8.GetString(buffer.ToArray());
            seen.Add(text);
            var message = JsonDocument.Parse(text).RootElement.Clone();
            if (wanted(message)) return message;
        }
    }
}
