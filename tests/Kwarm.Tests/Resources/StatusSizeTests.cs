using System.Text;
using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>DESIGN §2: a PrePullImage's status stays under 1 MiB at 5,000 nodes.</summary>
public sealed class StatusSizeTests
{
    private const int OneMebibyte = 1024 * 1024;

    [Fact]
    public void Five_thousand_finished_nodes_fit_in_one_mebibyte()
    {
        var started = new DateTime(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc);
        var image = new PrePullImage
        {
            Metadata = new V1ObjectMeta { Name = "web-5d8f7c-0", NamespaceProperty = "shop" },
            Spec = new PrePullImageSpec { Image = "registry.example.com/shop/web:1.28.0" },
            Status = new PrePullImageStatus
            {
                Phase = PrePullImagePhase.Completed,
                Summary = new PullSummary { Total = 5_000, Completed = 4_000, Skipped = 1_000 },
                StartTime = started,
                CompletionTime = started.AddMinutes(9),
                ObservedGeneration = 1,
                Conditions = [new V1Condition { Type = PrePullImageStatus.ReadyCondition, Status = "True", Reason = "Warm", Message = "5000 of 5000 nodes done", LastTransitionTime = started.AddMinutes(9) }],
                Nodes = [.. Enumerable.Range(0, 5_000).Select(i => new NodePullStatus
                {
                    // A typical cloud node name (ip-10-x-y-z.<region>.compute.internal), at its longest.
                    Node = $"ip-10-{i / 256 % 256:D3}-{i % 256:D3}-{i % 200:D3}.eu-central-1.compute.internal",
                    Status = i < 1_000 ? NodePullState.Skipped : NodePullState.Completed,
                    StartedAt = i < 1_000 ? null : started.AddSeconds(i % 500),
                    CompletedAt = i < 1_000 ? null : started.AddSeconds((i % 500) + 12.5),
                    Duration = i < 1_000 ? null : GoDuration.Format(TimeSpan.FromSeconds(12.5)),
                    RetryCount = i < 1_000 ? null : 0,
                })],
            },
        };

        var bytes = Encoding.UTF8.GetByteCount(KubernetesJson.Serialize(image));

        TestContext.Current.TestOutputHelper?.WriteLine($"{bytes} bytes");
        Assert.InRange(bytes, 500_000, OneMebibyte);
    }
}
