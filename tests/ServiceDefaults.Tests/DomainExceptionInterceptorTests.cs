using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Hosting.Internal;
using Platform.ServiceDefaults.Grpc;
using Platform.TestSupport;

namespace Platform.ServiceDefaults.Tests;

/// <summary>The one place domain errors become gRPC statuses: code, message, ErrorInfo, and a BadRequest for a field.</summary>
public sealed class DomainExceptionInterceptorTests
{
    readonly DomainExceptionInterceptor interceptor = new(new HostingEnvironment { ApplicationName = "Ledger" });

    Task<RpcException> CallThrowing(Exception ex) =>
        Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>("request", new TestServerCallContext(), (_, _) => throw ex));

    [Theory]
    [InlineData("conflict", StatusCode.Aborted)]
    [InlineData("duplicate", StatusCode.AlreadyExists)]
    [InlineData("no-room", StatusCode.ResourceExhausted)]
    public async Task Each_kind_of_domain_error_has_its_status_and_an_ErrorInfo(string kind, StatusCode code)
    {
        DomainException ex = kind switch
        {
            "conflict" => new ConflictException("BUSY", "it is busy"),
            "duplicate" => new DuplicateException("TAKEN", "it is taken"),
            _ => new NoRoomException("FULL", "it is full"),
        };

        var mapped = await CallThrowing(ex);

        Assert.Equal(code, mapped.StatusCode);
        Assert.Equal(ex.Message, mapped.Status.Detail);
        var info = mapped.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal((ex.Reason, "ledger.platform"), (info.Reason, info.Domain));
    }

    [Fact]
    public async Task A_bad_field_found_in_the_data_names_the_field_like_request_validation()
    {
        var mapped = await CallThrowing(new InvalidFieldException("target_node_id", "is the workload's own node"));

        Assert.Equal(StatusCode.InvalidArgument, mapped.StatusCode);
        var violation = Assert.Single(mapped.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal(("target_node_id", "is the workload's own node"), (violation.Field, violation.Description));
    }

    [Fact]
    public async Task Anything_else_passes_through_untouched()
    {
        var unexpected = new InvalidOperationException("a bug");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            interceptor.UnaryServerHandler<string, string>("request", new TestServerCallContext(), (_, _) => throw unexpected));

        Assert.Same(unexpected, thrown);
    }

    [Fact]
    public async Task A_request_holding_a_NUL_anywhere_is_refused_naming_the_field_before_the_handler_runs()
    {
        var ran = false;
        var request = new Platform.Compute.V1.CreateWorkloadRequest { Name = "ok", Env = { ["KEY"] = "a\0b" } };

        var refused = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<Platform.Compute.V1.CreateWorkloadRequest, string>(
            request, new TestServerCallContext(), (_, _) => { ran = true; return Task.FromResult(""); }));

        Assert.False(ran);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("env[KEY]", refused.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Single().Field);
    }
}
