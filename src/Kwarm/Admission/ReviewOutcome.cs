using Kwarm.Observability;

namespace Kwarm.Admission;

/// <summary>The answer to one posted body: either a review response to send, or why the body was refused.</summary>
public sealed record ReviewOutcome
{
    /// <summary>Serialized AdmissionReview with its response; null when <see cref="Error"/> is set.</summary>
    public byte[]? ResponseBody { get; init; }

    /// <summary>Why the body is not a usable AdmissionReview (answered with HTTP 400).</summary>
    public string? Error { get; init; }

    /// <summary>The decision of a workload path; null for <c>/mutate/nodes</c> and for an error.</summary>
    public HoldDecision? Decision { get; init; }

    /// <summary>The decision of <c>/mutate/nodes</c>; null for the workload paths and for an error.</summary>
    public NodeTaintDecision? NodeDecision { get; init; }

    /// <summary>The request's envelope, without <c>object</c>, <c>oldObject</c> and <c>options</c> (read in place from the body, never kept).</summary>
    public AdmissionRequest? Request { get; init; }

    /// <summary>The <c>decision</c> label of <c>kwarm_webhook_requests_total</c>: a Node is allowed, tainted or not (it is never held).</summary>
    public string MetricDecision => Error is not null ? KwarmMetrics.Decisions.Invalid
        : Decision?.Holds == true ? KwarmMetrics.Decisions.Hold : KwarmMetrics.Decisions.Allow;
}
