extern alias scheduler;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Platform.Scheduler.V1;
using Platform.TestSupport;
using Platform.Tokenomics.V1;
using SchedulerProgram = scheduler::Program;

namespace Platform.Tokenomics.Tests;

/// <summary>
/// An executed proposal changes the Scheduler's objective weights in the Scheduler itself, over gRPC as the
/// <c>tokenomics</c> service; while the Scheduler cannot be reached the proposal stays Queued with the reason, and a
/// later execution carries it out.
/// </summary>
public sealed class GovernanceExecutionTests
{
    [Fact]
    public async Task An_executed_proposal_sets_the_schedulers_objective_weights_there()
    {
        var port = Platform.AppHost.Hosting.Ports.Free();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string>(GovernanceTests.Genesis)
        {
            ["services:scheduler:grpc:0"] = $"http://127.0.0.1:{port}",
            ["Auth:Token"] = TestInfrastructure.Token("tokenomics", "service", TimeSpan.FromDays(1)),
        };
        await using var tokenomics = await ServiceHost<Program>.StartAsync(settings, services => services.AddSingleton<TimeProvider>(clock));
        await GovernanceTests.StakeAsync(tokenomics, ("alice", 1_000));
        var alice = new V1.Governance.GovernanceClient(tokenomics.Channel(TestInfrastructure.Token("alice", "viewer")));
        var weights = new ObjectiveWeights { Makespan = 1, Cost = 5, Energy = 0.5, SlaLateness = 2, Imbalance = 0.25 };
        var proposal = await alice.CreateProposalAsync(new CreateProposalRequest
        {
            Title = "Cheaper placements", Actions = { new ProposalAction { ObjectiveWeights = weights } },
        });
        clock.Advance(TimeSpan.FromSeconds(61));
        await alice.CastVoteAsync(new CastVoteRequest { ProposalId = proposal.ProposalId, Support = "for" });
        clock.Advance(TimeSpan.FromSeconds(121));
        var id = new GetProposalRequest { ProposalId = proposal.ProposalId };
        await alice.QueueProposalAsync(id);
        clock.Advance(TimeSpan.FromSeconds(61));

        // A Scheduler that does not take Tokenomics' word (its governance clients are others): nothing changes, and the proposal says why.
        // (Tokenomics' clock is the test's, so a Scheduler that is down would leave the client's retries waiting on it.)
        var database = await TestInfrastructure.CreateDatabaseAsync("scheduler");
        await using (await StartSchedulerAsync(database, port, governanceClient: "somebody-else"))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => alice.ExecuteProposalAsync(id).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }
        var waiting = await alice.GetProposalAsync(id);
        Assert.Equal("Queued", waiting.State);
        Assert.StartsWith("PermissionDenied", waiting.ExecutionError);

        await using var scheduler = await StartSchedulerAsync(database, port, governanceClient: "tokenomics");
        var executed = await alice.ExecuteProposalAsync(id);
        Assert.Equal(("Executed", ""), (executed.State, executed.ExecutionError));

        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new BearerHandler(TestInfrastructure.Token("vera", "viewer")) { InnerHandler = new SocketsHttpHandler() },
        });
        var set = await new Placements.PlacementsClient(channel).GetObjectiveWeightsAsync(new GetObjectiveWeightsRequest());
        Assert.Equal((1d, 5d, 0.5d, 2d, 0.25d, "tokenomics"), (set.Makespan, set.Cost, set.Energy, set.SlaLateness, set.Imbalance, set.ChangedBy));
    }

    static Task<ServiceHost<SchedulerProgram>> StartSchedulerAsync(string database, int port, string governanceClient) =>
        ServiceHost<SchedulerProgram>.StartOnAsync(database, kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2),
            new Dictionary<string, string>
            {
                ["Auth:Token"] = TestInfrastructure.Token("scheduler", "service", TimeSpan.FromDays(1)),
                ["services:compute:grpc:0"] = $"http://127.0.0.1:{Platform.AppHost.Hosting.Ports.Free()}",   // no Compute: this test places nothing
                ["Scheduler:Governance:Clients:0"] = governanceClient,
            });
}
