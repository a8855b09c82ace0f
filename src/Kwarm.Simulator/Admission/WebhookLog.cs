using Microsoft.Extensions.Logging;

namespace Kwarm.Simulator.Admission;

/// <summary>
/// What the simulated API server logs about webhook calls, as kube-apiserver logs a webhook that failed open: a
/// webhook that cannot be reached must be visible, or a missing hold looks like a decision.
/// </summary>
internal static partial class WebhookLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Webhook {Webhook} calls Service {Service}, which no local endpoint serves (map it: --webhook-service-endpoint {Mapping}); the request {Outcome}")]
    public static partial void ServiceNotRouted(this ILogger logger, string webhook, string service, string mapping, string outcome);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Failed calling webhook {Webhook} at {Target}: {Reason}; the request {Outcome}")]
    public static partial void CallFailed(this ILogger logger, string webhook, Uri target, string reason, string outcome);
}
