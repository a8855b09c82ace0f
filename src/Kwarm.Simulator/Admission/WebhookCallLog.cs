namespace Kwarm.Simulator.Admission;

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
