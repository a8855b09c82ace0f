namespace Kwarm.Runtime;

public sealed record WorkQueueOptions
{
    /// <summary>Delay before the first retry of a failing key; doubles with every further failure.</summary>
    public TimeSpan BaseRetryDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(5);
}
