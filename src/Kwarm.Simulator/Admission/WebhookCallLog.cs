namespace Kwarm.Simulator.Admission;

/// <summary>
/// One call the API server made to an admission webhook: which webhook, the operation, when it was sent and how long
/// the answer took (request sent to response read), and whether an answer came back at all (a timeout or transport
/// error does not, whatever the failure policy then made of it).
/// </summary>
public sealed record WebhookCall(string Webhook, string Operation, string Namespace, string Name, DateTimeOffset SentAt, TimeSpan Duration, bool Answered);

/// <summary>Every webhook call so far, for benchmarks that report the webhook's latency as the API server sees it.</summary>
public sealed class WebhookCallLog
{
    private readonly Lock _lock = new();
    private readonly List<WebhookCall> _calls = [];

    public void Record(WebhookCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        lock (_lock)
        {
            _calls.Add(call);
        }
    }

    /// <summary>A copy of the calls so far.</summary>
    public IReadOnlyList<WebhookCall> Snapshot()
    {
        lock (_lock)
        {
            return [.. _calls];
        }
    }
}
