using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Pulling;
using Kwarm.Resources;
using Microsoft.Extensions.Time.Testing;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

/// <summary>Which PrePullImages a node change wakes: the work of a pre-pull must grow with its pulls, not with pulls × PrePullImages.</summary>
public sealed class PullEventMapperTests
{
    private readonly ResourceCache<PrePullImage> _images = new();
    private readonly ResourceCache<V1Node> _nodes = new();
    private readonly List<string> _woken = [];
    private readonly PullEventMapper _engine;

    public PullEventMapperTests()
    {
        var jobs = new ResourceCache<V1Job>();
        var pods = new ResourceCache<V1Pod>();
        var scheduler = new PullScheduler(10, 2, new FakeTimeProvider(Epoch));
        _engine = new PullEventMapper(
            _images, jobs, scheduler, new PullSchedulingTrigger(), new KubeletPullErrors(), new PullMetrics(null, _images, jobs, pods, scheduler), _woken.Add);
        _images.Upsert(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:2" }));
        _images.Upsert(Image("shop", "api", new PrePullImageSpec { Image = "registry.local/api:2" }));
        _images.Upsert(Image("shop", "done", new PrePullImageSpec { Image = "registry.local/done:2" }) with
        {
            Status = new PrePullImageStatus { Phase = PrePullImagePhase.Completed, ObservedGeneration = 1 },
        });
    }

    [Fact]
    public void A_node_listing_a_new_image_wakes_only_the_unfinished_prepullimages_of_that_reference()
    {
        Update(Node("n1", images: ["registry.local/base:1"]), Node("n1", images: ["registry.local/base:1", "registry.local/web:2", "registry.local/done:2"]));

        Assert.Equal(["shop/web"], _woken);
    }

    [Fact]
    public void A_node_dropping_an_image_wakes_nothing()
    {
        Update(Node("n1", images: ["registry.local/base:1", "registry.local/web:2"]), Node("n1", images: ["registry.local/base:1"]));

        Assert.Empty(_woken);
    }

    [Fact]
    public void A_targeting_change_a_new_node_or_a_gone_node_still_wakes_every_unfinished_prepullimage()
    {
        Update(Node("n1", images: ["registry.local/base:1"]), Node("n1", ready: false, images: ["registry.local/base:1", "registry.local/web:2"]));
        Assert.Equal(["shop/api", "shop/web"], _woken.Order(StringComparer.Ordinal));

        _woken.Clear();
        _engine.OnNode(new ResourceEvent<V1Node>(ResourceEventType.Added, Node("n2")));
        Assert.Equal(["shop/api", "shop/web"], _woken.Order(StringComparer.Ordinal));

        _woken.Clear();
        _engine.OnNode(new ResourceEvent<V1Node>(ResourceEventType.Deleted, Node("n2")));
        Assert.Equal(["shop/api", "shop/web"], _woken.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_heartbeat_that_changes_nothing_targeting_reads_wakes_nothing()
    {
        var before = Node("n1", images: ["registry.local/base:1"]);
        var after = Node("n1", images: ["registry.local/base:1"]);
        after.Metadata.ResourceVersion = "2";

        Update(before, after);

        Assert.Empty(_woken);
    }

    private void Update(V1Node before, V1Node after)
    {
        _nodes.Upsert(after);
        _engine.OnNode(new ResourceEvent<V1Node>(ResourceEventType.Updated, after, before));
    }
}
