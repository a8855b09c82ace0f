namespace Kwarm.Runtime;

/// <summary>What a reconcile asks of the queue when it succeeded.</summary>
public sealed record ReconcileResult(TimeSpan? RequeueAfter)
{
    public static ReconcileResult Done { get; } = new((TimeSpan?)null);

    /// <summary>Look again later even though nothing failed (a deadline, a timeout).</summary>
    public static ReconcileResult After(TimeSpan delay) => new(delay);
}
