using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Pulling;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class NodeSelectionTests
{
    [Fact]
    public void A_selection_is_kept_through_image_reports_and_renewed_when_a_node_is_relabelled_added_or_the_spec_changes()
    {
        var nodes = new ResourceCache<V1Node>();
        V1Node Labelled(string name, string pool, params string[] images) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["pool"] = pool } },
            Status = new V1NodeStatus { Images = [.. images.Select(image => new V1ContainerImage { Names = [image] })] },
        };

        nodes.Upsert(Labelled("a", "gpu"));
        nodes.Upsert(Labelled("b", "cpu"));
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1", Nodes = new NodeTargets { Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = "gpu" } } } });
        image.Metadata.Uid = "uid-web";
        image.Metadata.Generation = 1;
        var selection = new NodeSelection();
        string[] Names() => [.. selection.For(image, nodes).Select(node => node.Metadata.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(["a"], Names());

        // A kubelet reporting an image changes no selection, and the current object is what comes back.
        var before = nodes.Get(null, "a")!;
        var pulled = Labelled("a", "gpu", "r/web:1");
        nodes.Upsert(pulled);
        selection.NodeChanged(new ResourceEvent<V1Node>(ResourceEventType.Updated, pulled, before));
        Assert.Same(pulled, Assert.Single(selection.For(image, nodes)));

        // Relabelled into the pool: selected from the next call.
        var relabelled = Labelled("b", "gpu");
        var old = nodes.Get(null, "b")!;
        nodes.Upsert(relabelled);
        selection.NodeChanged(new ResourceEvent<V1Node>(ResourceEventType.Updated, relabelled, old));
        Assert.Equal(["a", "b"], Names());

        // A node joining.
        var joined = Labelled("c", "gpu");
        nodes.Upsert(joined);
        selection.NodeChanged(new ResourceEvent<V1Node>(ResourceEventType.Added, joined));
        Assert.Equal(["a", "b", "c"], Names());

        // A deleted node is gone at once (the cache no longer has it), and the spec's own change is seen by its generation.
        nodes.Remove(ResourceKeys.For(joined));
        Assert.Equal(["a", "b"], Names());
        image = image with { Spec = image.Spec with { Nodes = new NodeTargets { Names = ["b"] } } };
        image.Metadata.Generation = 2;
        Assert.Equal(["b"], Names());
    }
}
