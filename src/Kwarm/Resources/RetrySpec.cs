using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

public sealed record RetrySpec
{
    public const int DefaultMaxAttempts = 3;
    public const int DefaultBackoffSeconds = 30;

    /// <summary>The most attempts per node the schema accepts: beyond that a node is not coming back by retrying.</summary>
    public const int MaxAttemptsLimit = 100;

    /// <summary>The longest first backoff the schema accepts: one hour.</summary>
    public const int BackoffSecondsLimit = 3600;

    /// <summary>Total attempts per node, the first included.</summary>
    /// <remarks>
    /// A 64-bit integer although the schema bounds it to 100: the API server accepts any integer that fits 64 bits
    /// where a CRD has no <c>maximum</c> (an older CRD, or a Helm upgrade, which never updates CRDs), and a value that
    /// did not fit this type would make the whole object unreadable. Read as it is, it is reported and replaced.
    /// </remarks>
    [JsonPropertyName("maxAttempts")]
    public long? MaxAttempts { get; set; }

    /// <summary>Delay before the second attempt; doubles for each later one, capped. 64-bit for the reason given on <see cref="MaxAttempts"/>.</summary>
    [JsonPropertyName("backoffSeconds")]
    public long? BackoffSeconds { get; set; }

    /// <summary>The longest wait between two attempts, unless <see cref="BackoffSeconds"/> itself is longer.</summary>
    public static TimeSpan MaxBackoff => TimeSpan.FromMinutes(5);

    /// <summary><see cref="MaxAttempts"/> when it is between 1 and <see cref="MaxAttemptsLimit"/>, else 3.</summary>
    [JsonIgnore]
    public int EffectiveMaxAttempts => MaxAttempts is >= 1 and <= MaxAttemptsLimit ? (int)MaxAttempts.Value : DefaultMaxAttempts;

    /// <summary>The wait before the second attempt: <see cref="BackoffSeconds"/> when it is between 1 and <see cref="BackoffSecondsLimit"/>, else 30 seconds.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveBackoff =>
        TimeSpan.FromSeconds(BackoffSeconds is >= 1 and <= BackoffSecondsLimit ? BackoffSeconds.Value : DefaultBackoffSeconds);

    /// <summary>A copy with both fields set to their effective values, for writing explicit settings (e.g. into a PrePullImage).</summary>
    public RetrySpec WithDefaults() => new() { MaxAttempts = EffectiveMaxAttempts, BackoffSeconds = (long)EffectiveBackoff.TotalSeconds };

    /// <summary>
    /// How long to wait before attempt number <paramref name="attempt"/> (1 = the first, which starts at once):
    /// the backoff, doubled for each later attempt, capped at <see cref="MaxBackoff"/> (or at the backoff when it is longer).
    /// </summary>
    public TimeSpan DelayBeforeAttempt(int attempt)
    {
        if (attempt <= 1)
        {
            return TimeSpan.Zero;
        }

        var backoff = EffectiveBackoff;
        var cap = backoff > MaxBackoff ? backoff : MaxBackoff;
        // 2^20 times any backoff of at least a second is far beyond the cap; stopping there avoids overflow.
        var doublings = Math.Min(attempt - 2, 20);
        var delay = backoff * Math.Pow(2, doublings);
        return delay > cap ? cap : delay;
    }

    internal IEnumerable<string> Validate(string fieldPath)
    {
        if (MaxAttempts is < 1 or > MaxAttemptsLimit)
        {
            yield return $"{fieldPath}.maxAttempts: must be between 1 and {MaxAttemptsLimit}, got {MaxAttempts}; the default {DefaultMaxAttempts} is used";
        }

        if (BackoffSeconds is < 1 or > BackoffSecondsLimit)
        {
            yield return $"{fieldPath}.backoffSeconds: must be between 1 and {BackoffSecondsLimit}, got {BackoffSeconds}; the default {DefaultBackoffSeconds} is used";
        }
    }
}
