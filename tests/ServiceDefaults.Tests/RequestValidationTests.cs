using Google.Rpc;
using Grpc.Core;
using Platform.ServiceDefaults.Grpc;

namespace Platform.ServiceDefaults.Tests;

public sealed class RequestValidationTests
{
    [Fact]
    public void Every_violation_is_reported_at_once_as_InvalidArgument_with_a_BadRequest_detail()
    {
        var error = Assert.Throws<RpcException>(() => new RequestValidation()
            .Require(false, "name", "is required")
            .Require(true, "ok", "never reported")
            .Require(false, "limit", "must be positive")
            .ThrowIfInvalid());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.Equal(["name", "limit"], badRequest.FieldViolations.Select(v => v.Field));
        Assert.Equal("name: is required; limit: must be positive", error.Status.Detail);
    }

    [Fact]
    public void A_valid_request_passes() => new RequestValidation().Require(true, "name", "is required").ThrowIfInvalid();
}
