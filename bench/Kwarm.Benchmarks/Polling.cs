namespace Kwarm.Benchmarks;

/// <summary>Waits on in-memory observations (never the API): the benchmarks read the simulator's store and their recorders.</summary>
internal static class Polling
{
    /// <summary>True once <paramref name="condition"/> holds; false when <paramref name="within"/> passed first.</summary>
    public static async Task<bool> TryUntilAsync(Func<bool> condition, TimeSpan within, TimeSpan interval, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        while (!condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Like <see cref="TryUntilAsync"/>, but running out of time is an error naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan within, TimeSpan interval, CancellationToken cancellationToken)
    {
        if (!await TryUntilAsync(condition, within, interval, cancellationToken).ConfigureAwait(false))
        {
            throw new TimeoutException($"gave up after {within.TotalSeconds:0} s waiting for {what}");
        }
    }
}

/// <summary>Nearest-rank percentiles, the definition every section of docs/benchmarks.md uses.</summary>
internal static class NearestRank
{
    /// <summary>The smallest value of the ascending <paramref name="sorted"/> with at least <paramref name="quantile"/> of the values at or below it.</summary>
    public static double Of(double[] sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
