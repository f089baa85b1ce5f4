using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Privacy.V1;
using Platform.ServiceDefaults.Auth;

namespace Platform.Privacy.Relays;

/// <summary>The relay directory as clients see it.</summary>
public sealed class RelayDirectoryService(RelayStore store) : V1.Privacy.PrivacyBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListRelaysResponse> ListRelays(ListRelaysRequest request, ServerCallContext context)
    {
        var response = new ListRelaysResponse();
        response.Relays.AddRange(await store.ListAsync(context.CancellationToken));
        return response;
    }
}
