namespace Kwarm.Testing;

/// <summary>
/// Waiting on a condition instead of a fixed sleep: polls until it holds, and fails the test with what was awaited
/// (and, when given, what the system looked like) once the limit passes.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null, Func<string>? diagnostics = null) =>
        WaitUntilAsync(condition, what, within ?? TimeSpan.FromSeconds(20), diagnostics, TestContext.Current.CancellationToken);

    public static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? within = null, Func<string>? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return WaitUntilAsync(() => Task.FromResult(condition()), what, within, diagnostics);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan within, Func<string>? diagnostics, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {within.TotalSeconds:0.#} s waiting for {what}" + (diagnostics is null ? "" : "\n" + diagnostics()));
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }
}
