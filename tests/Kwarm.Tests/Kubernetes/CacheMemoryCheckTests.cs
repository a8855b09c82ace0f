using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Tests.Admission;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Kubernetes;

/// <summary>
/// The start-up memory check: one warning when the caches' projected memory takes more than 70 % of the cgroup limit,
/// an information line otherwise, logged once the first lists of nodes and workloads are stored.
/// </summary>
public sealed class CacheMemoryCheckTests : IDisposable
{
    private const int LimitTooSmall = 1101;
    private const int FitsLimit = 1102;
    private const int NoLimit = 1103;
    private const long MiB = 1024 * 1024;

    private readonly DirectoryInfo _cgroup = Directory.CreateTempSubdirectory("kwarm-cgroup-");
    private readonly RecordingLoggerProvider _logs = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _logs.Dispose();
        _cgroup.Delete(recursive: true);
    }

    [Fact]
    public void Projection_over_70_percent_of_the_limit_is_one_warning_naming_counts_sizes_and_the_sizing_table()
    {
        var estimate = new CacheMemoryEstimate(Nodes: 10, Workloads: 20);
        var limit = 100 * MiB;
        Assert.False(estimate.FitsWithHeadroom(limit));

        CacheMemoryCheck.Report(_logs.CreateLogger<CacheMemoryCheck>(), estimate, limit, _cgroup.FullName);

        var warning = Assert.Single(_logs.Entries);
        Assert.Equal(LimitTooSmall, warning.EventId.Id);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("10 nodes and 20 workloads", warning.Message, StringComparison.Ordinal);
        Assert.Contains($"projected to need {(long)Math.Ceiling(estimate.ProjectedMiB)} MiB", warning.Message, StringComparison.Ordinal);
        Assert.Contains("the 100 MiB memory limit", warning.Message, StringComparison.Ordinal);
        Assert.Contains($"at least {estimate.SmallestLimitMiB} MiB", warning.Message, StringComparison.Ordinal);
        Assert.Contains("see the sizing table in docs/install.md", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Projection_within_70_percent_of_the_limit_is_information_and_no_warning()
    {
        var estimate = new CacheMemoryEstimate(Nodes: 10, Workloads: 20);
        var limit = 256 * MiB;
        Assert.True(estimate.FitsWithHeadroom(limit));

        CacheMemoryCheck.Report(_logs.CreateLogger<CacheMemoryCheck>(), estimate, limit, _cgroup.FullName);

        var line = Assert.Single(_logs.Entries);
        Assert.Equal(FitsLimit, line.EventId.Id);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("10 nodes and 20 workloads", line.Message, StringComparison.Ordinal);
        Assert.Contains("the 256 MiB memory limit", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_limit_is_information_and_no_warning()
    {
        CacheMemoryCheck.Report(_logs.CreateLogger<CacheMemoryCheck>(), new CacheMemoryEstimate(10, 20), limitBytes: null, _cgroup.FullName);

        var line = Assert.Single(_logs.Entries);
        Assert.Equal(NoLimit, line.EventId.Id);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains(_cgroup.FullName, line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waits_for_the_first_lists_then_counts_nodes_and_all_three_workload_kinds_against_the_cgroup_limit()
    {
        // 95 MiB of baseline alone is more than 70 % of 128 MiB: the warning is certain whatever the counts.
        File.WriteAllText(Path.Combine(_cgroup.FullName, "memory.max"), (128 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var deploymentsListed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nodes = Informer(ResourceKinds.Nodes, Enumerable.Range(0, 4).Select(i => new V1Node { Metadata = new() { Name = $"node-{i}" } }));
        var deployments = Informer(
            ResourceKinds.Deployments,
            Enumerable.Range(0, 3).Select(i => new V1Deployment { Metadata = new() { Name = $"web-{i}", NamespaceProperty = "apps" } }),
            deploymentsListed.Task);
        var statefulSets = Informer(ResourceKinds.StatefulSets, [new V1StatefulSet { Metadata = new() { Name = "db", NamespaceProperty = "apps" } }]);
        var daemonSets = Informer(ResourceKinds.DaemonSets, Enumerable.Range(0, 2).Select(i => new V1DaemonSet { Metadata = new() { Name = $"agent-{i}", NamespaceProperty = "kube-system" } }));
        using var check = new CacheMemoryCheck(nodes, deployments, statefulSets, daemonSets, _cgroup.FullName, _logs.CreateLogger<CacheMemoryCheck>());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var running = new IResourceInformer[] { nodes, deployments, statefulSets, daemonSets }
            .Select(informer => Task.Run(() => informer.RunAsync(stop.Token), CancellationToken.None))
            .ToList();
        try
        {
            await check.StartAsync(Token);
            await Task.WhenAll(nodes.WaitForSyncAsync(Token), statefulSets.WaitForSyncAsync(Token), daemonSets.WaitForSyncAsync(Token));

            // Three caches are full, the Deployments are still listing: nothing to judge yet.
            Assert.False(check.ExecuteTask!.IsCompleted);
            Assert.Empty(_logs.Entries);

            deploymentsListed.SetResult();
            await check.ExecuteTask.WaitAsync(TimeSpan.FromSeconds(30), Token);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(running);
            await check.StopAsync(CancellationToken.None);
        }

        var warning = Assert.Single(_logs.Entries);
        Assert.Equal(LimitTooSmall, warning.EventId.Id);
        Assert.Contains("4 nodes and 6 workloads", warning.Message, StringComparison.Ordinal);
        Assert.Contains("the 128 MiB memory limit", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_before_the_caches_sync_logs_nothing()
    {
        // The informers never run, so their caches never sync.
        using var check = new CacheMemoryCheck(
            Informer<V1Node>(ResourceKinds.Nodes, []),
            Informer<V1Deployment>(ResourceKinds.Deployments, []),
            Informer<V1StatefulSet>(ResourceKinds.StatefulSets, []),
            Informer<V1DaemonSet>(ResourceKinds.DaemonSets, []),
            _cgroup.FullName,
            _logs.CreateLogger<CacheMemoryCheck>());

        await check.StartAsync(Token);
        await check.StopAsync(Token);

        // Canceled when the host stopped it before it ran (BackgroundService starts it on the thread pool), else
        // returned: never faulted, so a host that stops during start-up reports no error from this check.
        Assert.True(check.ExecuteTask!.IsCompleted);
        Assert.False(check.ExecuteTask.IsFaulted, check.ExecuteTask.Exception?.ToString());
        Assert.Empty(_logs.Entries);
    }

    private static ResourceInformer<T> Informer<T>(ResourceKind kind, IEnumerable<T> items, Task? listed = null)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        new(new FixedListWatcher<T>(kind, [.. items], listed ?? Task.CompletedTask), new ResourceInformerOptions(), transform: null, TimeProvider.System, NullLogger<ResourceInformer<T>>.Instance);

    /// <summary>Answers the LIST with fixed items once <paramref name="listed"/> completes; its watches deliver nothing until cancelled.</summary>
    private sealed class FixedListWatcher<T>(ResourceKind kind, IReadOnlyList<T> items, Task listed) : IResourceListWatcher<T>
    {
        public ResourceKind Kind => kind;

        public async Task<ResourceListPage<T>> ListAsync(ListRequest request, CancellationToken cancellationToken)
        {
            await listed.WaitAsync(cancellationToken);
            return new ResourceListPage<T>(items, "1", Continue: null);
        }

        public async IAsyncEnumerable<ResourceWatchEvent<T>> WatchAsync(WatchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }
    }
}
