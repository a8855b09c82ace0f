using System.Text;
using k8s;
using k8s.Models;
using Kwarm.Pulling;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class StatusBudgetTests
{
    private const int OneMebibyte = 1024 * 1024;

    [Fact]
    public void Worst_case_status_at_5000_nodes_with_253_character_names_and_long_messages_stays_under_one_mebibyte()
    {
        var status = Status(5_000, index => NodeName(index, 253), failedEvery: 7, messageLength: 4_000);
        Assert.True(StatusBudget.Size(status) > 2 * OneMebibyte, "the raw status must be oversized for this test to mean anything");

        var fitted = StatusBudget.Fit(status);

        var image = Image("shop", new string('w', 253), new PrePullImageSpec { Image = "registry.example.com/" + new string('p', 200) + ":1" }) with { Status = fitted.Status };
        var bytes = Encoding.UTF8.GetByteCount(KubernetesJson.Serialize(image));
        Assert.True(bytes < OneMebibyte, $"{bytes} bytes");

        // Every entry is either listed or handed back in full (the engine remembers it); what stays listed is what
        // carries state the API cannot tell again: no pulled node is listed while a failed or retrying one is left out.
        var listed = fitted.Status.Nodes!.Select(entry => entry.Node).ToHashSet(StringComparer.Ordinal);
        var remembered = fitted.Remembered.ToDictionary(entry => entry.Node, StringComparer.Ordinal);
        Assert.Equal(status.Nodes!.Count, listed.Count + fitted.Omitted);
        Assert.True(fitted.Omitted > 0);
        Assert.All(status.Nodes!, entry => Assert.True(listed.Contains(entry.Node) || remembered[entry.Node] == entry, entry.Node));
        var retrying = status.Nodes!.Where(entry => entry is { Status: NodePullState.Pending, RetryCount: > 0 }).Select(entry => entry.Node);
        Assert.All(retrying, node => Assert.Contains(node, listed));
        var omittedRanks = status.Nodes!.Where(entry => !listed.Contains(entry.Node)).Select(Rank).ToList();
        var listedRanks = status.Nodes!.Where(entry => listed.Contains(entry.Node)).Select(Rank).ToList();
        Assert.True(omittedRanks.Max() <= listedRanks.Min(), $"left out up to rank {omittedRanks.Max()}, listed from rank {listedRanks.Min()}");

        Assert.Equal(5_000, fitted.Status.Summary!.Total);
        Assert.Contains("not listed", fitted.Status.Conditions![0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void At_5000_failed_nodes_with_long_cloud_names_every_node_is_listed_and_the_shared_error_is_named_once()
    {
        var message = "rpc error: code = Unknown desc = failed to pull and unpack image \"registry.example.com/shop/web:1.2\": failed to resolve reference: pulling from host registry.example.com failed with status code [manifests 1.2]: 401 Unauthorized";
        var status = new PrePullImageStatus
        {
            Phase = PrePullImagePhase.Failed,
            Summary = new PullSummary { Total = 5_000, Failed = 5_000 },
            Nodes = [.. Enumerable.Range(0, 5_000).Select(index => new NodePullStatus
            {
                Node = NodeName(index, 63),
                Status = NodePullState.Failed,
                StartedAt = Epoch,
                CompletedAt = Epoch.AddMinutes(3),
                Error = message,
                RetryCount = 2,
            })],
            Conditions = [new V1Condition { Type = "Ready", Status = "True", Reason = "PullFailed", Message = "5000 of 5000 nodes done", LastTransitionTime = Epoch }],
        };

        var fitted = StatusBudget.Fit(status);

        Assert.Equal(0, fitted.Omitted);
        Assert.Equal(5_000, fitted.Status.Nodes!.Count);
        Assert.True(StatusBudget.Size(fitted.Status) < OneMebibyte);
        Assert.Equal(StatusBudget.RepeatedErrorsKept, fitted.Status.Nodes!.Count(entry => entry.Error == message));
        Assert.Contains("5000 nodes: " + message, fitted.Status.Conditions![0].Message, StringComparison.Ordinal);
        Assert.Equal(5_000 - StatusBudget.RepeatedErrorsKept, fitted.Remembered.Count);
        Assert.All(fitted.Remembered, entry => Assert.Equal(message, entry.Error));
    }

    [Fact]
    public void A_small_status_is_left_alone_and_fitting_is_stable()
    {
        var status = Status(10, index => NodeName(index, 30), failedEvery: 2, messageLength: 300);

        var once = StatusBudget.Fit(status).Status;
        var twice = StatusBudget.Fit(once).Status;

        Assert.Equal(KubernetesJson.Serialize(status), KubernetesJson.Serialize(once));
        Assert.Equal(KubernetesJson.Serialize(once), KubernetesJson.Serialize(twice));
    }

    /// <summary>Pulled, skipped, not started, pulling, failed, retrying: the order in which entries may be left out.</summary>
    private static int Rank(NodePullStatus entry) => entry switch
    {
        { Status: NodePullState.Completed } => 0,
        { Status: NodePullState.Skipped } => 1,
        { Status: NodePullState.Pending, RetryCount: null or 0 } => 2,
        { Status: NodePullState.Pulling } => 3,
        { Status: NodePullState.Failed } => 4,
        _ => 5,
    };

    private static string NodeName(int index, int length)
    {
        var prefix = $"node-{index:D5}.";
        return prefix + new string('z', length - prefix.Length);
    }

    private static PrePullImageStatus Status(int count, Func<int, string> name, int failedEvery, int messageLength)
    {
        var message = "rpc error: code = Unknown desc = failed to pull and unpack image \"registry.example.com/shop/web:1.2\": "
            + string.Concat(Enumerable.Repeat("401 Unauthorized; ", messageLength / 18 + 1));
        var nodes = Enumerable.Range(0, count).Select(index => (index % failedEvery, index % 11) switch
        {
            (0, _) => new NodePullStatus { Node = name(index), Status = NodePullState.Failed, StartedAt = Epoch, CompletedAt = Epoch.AddMinutes(3), Error = $"{index}: {message}"[..messageLength], RetryCount = 2 },
            (_, 1) => new NodePullStatus { Node = name(index), Status = NodePullState.Pending, StartedAt = Epoch, CompletedAt = Epoch.AddMinutes(1), Error = message[..messageLength], RetryCount = 1 },
            (_, 2) => new NodePullStatus { Node = name(index), Status = NodePullState.Pulling, StartedAt = Epoch, RetryCount = 0, JobName = "pull-" + new string('j', 47) + "-abcdefghij", Error = message[..messageLength] },
            (_, 3) => new NodePullStatus { Node = name(index), Status = NodePullState.Skipped, CompletedAt = Epoch },
            _ => new NodePullStatus { Node = name(index), Status = NodePullState.Completed, StartedAt = Epoch, CompletedAt = Epoch.AddSeconds(13), Duration = "13s", RetryCount = 0 },
        }).ToList();
        return new PrePullImageStatus
        {
            Phase = PrePullImagePhase.InProgress,
            Summary = new PullSummary { Total = count },
            Nodes = nodes,
            StartTime = Epoch,
            ObservedGeneration = 1,
            Conditions = [new V1Condition { Type = "Ready", Status = "False", Reason = "Pulling", Message = "in progress", LastTransitionTime = Epoch }],
        };
    }
}
