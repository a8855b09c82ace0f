using System.Globalization;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

/// <summary>
/// The measurement behind keeping <see cref="Kwarm.Pulling.KnownPullStatuses"/>' read-your-writes overlay (README
/// "Status writes"): the same pre-pull under a PrePullImage watch that lags by 0 to 7 seconds, planned from the
/// status written last (overlay) or from the cache alone, a stale status earning a 409 and a requeue one work-queue
/// retry later. The numbers go to the test output and into src/Kwarm/Pulling/README.md.
/// </summary>
public sealed class ReadYourWritesComparisonTests
{
    [Fact]
    public async Task Planning_from_the_status_written_last_starts_no_pull_twice_and_earns_no_conflicts_under_a_lagging_watch()
    {
        var rows = new List<Run>();
        foreach (var (nodes, cap) in new[] { (60, 10), (12, 3) })
        {
            foreach (var lagSeconds in new[] { 0, 1, 3, 7 })
            {
                rows.Add(await RunAsync(nodes, cap, lagSeconds, readYourWrites: true));
                rows.Add(await RunAsync(nodes, cap, lagSeconds, readYourWrites: false));
            }
        }

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine("| nodes, cap | watch lag | plans from | Jobs created | pulls started twice | 409s | status writes | reconciles | seconds to Completed |");
        output?.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows)
        {
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Nodes}, {row.Cap} | {row.LagSeconds} s | {(row.ReadYourWrites ? "last write" : "cache")} | {row.JobsCreated} | {row.Duplicates} | {row.Conflicts} | {row.StatusWrites} | {row.Reconciles} | {row.Seconds} |"));
        }

        Assert.All(rows.Where(row => row.ReadYourWrites), row => Assert.Equal((row.Nodes, 0, 0), (row.JobsCreated, row.Duplicates, row.Conflicts)));

        // Why the overlay stays: from the cache alone, every lagging run earns conflicts (and a requeue each).
        Assert.All(rows.Where(row => !row.ReadYourWrites && row.LagSeconds > 0), row => Assert.True(row.Conflicts > 0, $"{row}"));
    }

    private static async Task<Run> RunAsync(int nodes, int cap, int lagSeconds, bool readYourWrites)
    {
        var cluster = new FakePullCluster(maxConcurrentPulls: cap, maxPullsPerNode: 1, readYourWrites: readYourWrites)
        {
            // The work queue's rate limiter: a key refused with 409 comes back a moment later, not in the same instant.
            ConflictRetryDelay = TimeSpan.FromMilliseconds(5),
        };
        for (var i = 0; i < nodes; i++)
        {
            cluster.AddNode(Node($"node-{i:D2}"));
        }

        cluster.Registry["registry.local/web:1"] = new FakeImage(TimeSpan.FromSeconds(2));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));
        cluster.HideStatusWrites = lagSeconds > 0;
        var start = cluster.Time.GetUtcNow();

        await cluster.RunUntilAsync(
            () =>
            {
                if (lagSeconds > 0 && (cluster.Time.GetUtcNow() - start).TotalSeconds % lagSeconds == 0)
                {
                    cluster.RevealImages();
                }

                return cluster.Images.Get("shop", "web")?.Status?.Phase == PrePullImagePhase.Completed;
            },
            TimeSpan.FromSeconds(1),
            TimeSpan.FromMinutes(30));

        return new Run(
            nodes,
            cap,
            lagSeconds,
            readYourWrites,
            cluster.Created.Count,
            cluster.Created.Count - cluster.Created.Select(created => created.Node).Distinct().Count(),
            cluster.Conflicts,
            cluster.StatusWrites,
            cluster.Reconciles,
            (int)(cluster.Time.GetUtcNow() - start).TotalSeconds);
    }

    private sealed record Run(int Nodes, int Cap, int LagSeconds, bool ReadYourWrites, int JobsCreated, int Duplicates, int Conflicts, int StatusWrites, int Reconciles, int Seconds);
}
