namespace Kwarm.Runtime;

/// <summary>Work that runs only on the elected leader (an application's controllers).</summary>
public interface ILeaderOnlyWorker
{
    /// <summary>
    /// Runs until <paramref name="leadership"/> is cancelled (leadership lost or process stopping), then returns
    /// promptly. Throwing ends the process.
    /// </summary>
    Task RunAsync(CancellationToken leadership);
}
