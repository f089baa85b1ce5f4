using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.IntegrationTests;

/// <summary>The gateway as the one door: who gets in without a token, and what a stolen service environment is worth.</summary>
[Collection(PlatformCollection.Name)]
public sealed class IdentityTests(PlatformFixture fixture)
{
    [Fact]
    public async Task Anonymous_callers_reach_health_login_and_the_jwks_and_nothing_else()
    {
        using var anonymous = fixture.Platform.CreateAnonymousHttpClient();

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/.well-known/jwks.json")).StatusCode);
        foreach (var path in new[] { "/api/compute/nodes", "/api/vm/vms", "/api/telemetry/metrics/names", "/api/scheduler/jobs", "/api/auth/users", "/api/auth/me" })
            Assert.True((await anonymous.GetAsync(path)).StatusCode == HttpStatusCode.Unauthorized, path);
        using var run = await anonymous.PostAsJsonAsync("/api/vm/vms", new { name = "intruder", command = "sh", args = new[] { "-c", "id" } });
        Assert.Equal(HttpStatusCode.Unauthorized, run.StatusCode);

        using var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = fixture.Platform.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task The_cache_answers_nothing_without_its_password()
    {
        // What a workload on the node could do: find the port and speak Redis to it.
        var connection = fixture.Platform.EnvironmentOf("compute")["ConnectionStrings__cache"];
        var endpoint = connection.Split(',')[0].Split(':');
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(endpoint[0], int.Parse(endpoint[1]));
        var stream = client.GetStream();
        await stream.WriteAsync("*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"u8.ToArray());
        var buffer = new byte[256];
        var answer = System.Text.Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer));

        Assert.StartsWith("-NOAUTH", answer);
        Assert.Contains("password=", connection);
    }

    [Fact]
    public async Task A_services_environment_holds_no_signing_key_and_its_credential_mints_no_admin_token()
    {
        var environment = fixture.Platform.EnvironmentOf("compute");
        Assert.DoesNotContain(environment.Values, value => value.Contains("PRIVATE KEY") || value.Contains("SigningKey"));
        Assert.DoesNotContain(environment.Keys, key => key.Contains("SigningKey") || key == "Auth__Token");
        Assert.DoesNotContain(fixture.Platform.EnvironmentOf("gateway").Values, value => value.Contains("PRIVATE KEY"));

        using var anonymous = fixture.Platform.CreateAnonymousHttpClient();
        using var exchange = await anonymous.PostAsync("/api/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = environment["Auth__ClientId"], ["client_secret"] = environment["Auth__ClientSecret"],
        }));
        var serviceToken = JsonDocument.Parse(await exchange.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        Assert.Equal("service", new JsonWebToken(serviceToken).GetClaim("role").Value);

        // Whatever the environment holds, signing with it makes nothing the platform accepts.
        var forged = environment.Values.Where(v => v.Length >= 16).Select(secret => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "platform", Audience = "platform", Expires = DateTime.UtcNow.AddHours(1),
            Subject = new ClaimsIdentity([new Claim("sub", "admin"), new Claim("role", "admin")]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret.PadRight(32, '0'))), SecurityAlgorithms.HmacSha256),
        })).ToList();
        Assert.NotEmpty(forged);
        foreach (var token in forged.Append(serviceToken))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/users") { Content = JsonContent.Create(new { username = "mallory", password = "a long enough password", role = "admin" }) };
            request.Headers.Authorization = new("Bearer", token);
            var status = (await anonymous.SendAsync(request)).StatusCode;
            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{status}");
        }
    }

    [Fact]
    public async Task A_token_for_one_node_agent_opens_no_service_and_no_other_node_and_a_services_token_opens_no_node_agent()
    {
        using var admin = fixture.Platform.CreateHttpClient();
        var nodes = JsonDocument.Parse(await admin.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray().OrderBy(n => n.GetProperty("name").GetString()).ToList();
        var agentUrl = nodes[0].GetProperty("agentUrl").GetString()!;
        var forNodeAgents = await fixture.Platform.ServiceTokenAsync("compute", audience: $"node-agent:{nodes[0].GetProperty("name").GetString()}");
        var forAnotherNode = await fixture.Platform.ServiceTokenAsync("compute", audience: $"node-agent:{nodes[1].GetProperty("name").GetString()}");
        var forServices = await fixture.Platform.ServiceTokenAsync("compute");

        async Task<Grpc.Core.StatusCode> AskNodeAgentAsync(string token)
        {
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(agentUrl);
            var client = new Platform.NodeAgent.V1.NodeAgentApi.NodeAgentApiClient(channel);
            try
            {
                await client.ListProcessesAsync(new Platform.NodeAgent.V1.ListProcessesRequest(), new Grpc.Core.Metadata { { "authorization", $"Bearer {token}" } });
                return Grpc.Core.StatusCode.OK;
            }
            catch (Grpc.Core.RpcException ex)
            {
                return ex.StatusCode;
            }
        }

        Assert.Equal(Grpc.Core.StatusCode.OK, await AskNodeAgentAsync(forNodeAgents));
        Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, await AskNodeAgentAsync(forServices));
        Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, await AskNodeAgentAsync(forAnotherNode)); // one node's token opens no other node
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/compute/nodes");
        request.Headers.Authorization = new("Bearer", forNodeAgents);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Platform.CreateAnonymousHttpClient().SendAsync(request)).StatusCode);
    }
}
