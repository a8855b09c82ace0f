using k8s;
using k8s.Models;
using Kwarm.Kubernetes;

namespace Kwarm.Tests.Kubernetes;

public sealed class CachedStringsTests
{
    [Fact]
    public void Equal_strings_from_different_objects_become_one_instance()
    {
        var strings = new CachedStrings();
        var first = new string("team-01".AsSpan());
        var second = new string("team-01".AsSpan());
        Assert.False(ReferenceEquals(first, second));

        Assert.Same(strings.Intern(first), strings.Intern(second));
        Assert.Equal(1, strings.Count);
        Assert.Null(strings.Intern((string?)null));
    }

    [Fact]
    public void Long_strings_are_kept_as_they_came_and_the_pool_stops_growing_at_its_bound()
    {
        var strings = new CachedStrings();
        var long1 = new string('x', CachedStrings.MaxLength + 1);
        Assert.Same(long1, strings.Intern(long1));
        Assert.Equal(0, strings.Count);

        for (var i = 0; i < CachedStrings.MaxEntries + 10; i++)
        {
            strings.Intern(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(CachedStrings.MaxEntries, strings.Count);
        var late = new string("late-comer".AsSpan());
        Assert.Same(late, strings.Intern(late));
    }

    [Fact]
    public void A_copied_map_has_pooled_keys_and_values_and_leaves_the_original_alone()
    {
        var strings = new CachedStrings();
        var original = new Dictionary<string, string> { [new string("app".AsSpan())] = new string("web".AsSpan()) };
        var pooledKey = strings.Intern("app")!;
        var pooledValue = strings.Intern("web")!;

        var copy = strings.Intern(original)!;

        Assert.NotSame(original, copy);
        Assert.Equal(original, copy);
        var (key, value) = Assert.Single(copy);
        Assert.Same(pooledKey, key);
        Assert.Same(pooledValue, value);
    }

    [Fact]
    public void Trimming_with_the_pool_keeps_every_value_and_shares_what_objects_repeat()
    {
        var strings = new CachedStrings();
        var json = ApiFixtures.Text("get-deployment.json");
        var one = KubernetesJson.Deserialize<V1Deployment>(json);
        var two = KubernetesJson.Deserialize<V1Deployment>(json);

        var pooledOne = ResourceTrimmers.Deployment(one, strings);
        var pooledTwo = ResourceTrimmers.Deployment(two, strings);

        // The same object as the trimmer without the pool makes, field for field.
        Assert.Equal(KubernetesJson.Serialize(ResourceTrimmers.Deployment(one)), KubernetesJson.Serialize(pooledOne));
        Assert.Same(pooledOne.Metadata.NamespaceProperty, pooledTwo.Metadata.NamespaceProperty);
        Assert.Same(pooledOne.Spec.Template.Spec.Containers[0].Image, pooledTwo.Spec.Template.Spec.Containers[0].Image);
        var label = pooledOne.Metadata.Labels.First();
        Assert.Same(label.Value, pooledTwo.Metadata.Labels[label.Key]);
        Assert.Same(pooledOne.Spec.Selector.MatchLabels.First().Value, pooledTwo.Spec.Selector.MatchLabels.First().Value);

        // What is unique per object is never pooled: the trimmed object keeps the deserialized instance.
        Assert.Same(one.Metadata.Uid, pooledOne.Metadata.Uid);
        Assert.Same(one.Metadata.Name, pooledOne.Metadata.Name);
    }

    [Fact]
    public void Nodes_listing_the_same_images_share_their_names()
    {
        var strings = new CachedStrings();
        V1Node Node(string name) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/os"] = new string("linux".AsSpan()) } },
            Spec = new V1NodeSpec { Taints = [new V1Taint { Key = new string("gpu".AsSpan()), Effect = "NoSchedule" }] },
            Status = new V1NodeStatus
            {
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = new string("KubeletReady".AsSpan()) }, new V1NodeCondition { Type = "MemoryPressure", Status = "False" }],
                Images = [new V1ContainerImage { Names = [new string("registry.local/web@sha256:abc".AsSpan()), new string("registry.local/web:1".AsSpan())], SizeBytes = 1 }],
            },
        };

        var a = ResourceTrimmers.Node(Node("a"), strings);
        var b = ResourceTrimmers.Node(Node("b"), strings);

        Assert.Equal(KubernetesJson.Serialize(ResourceTrimmers.Node(Node("a"))), KubernetesJson.Serialize(a));
        Assert.Same(a.Status.Images[0].Names[0], b.Status.Images[0].Names[0]);
        Assert.Same(a.Status.Images[0].Names[1], b.Status.Images[0].Names[1]);
        Assert.Same(a.Spec.Taints[0].Key, b.Spec.Taints[0].Key);
        Assert.Same(a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason);
        Assert.Same(a.Metadata.Labels["kubernetes.io/os"], b.Metadata.Labels["kubernetes.io/os"]);
        Assert.Equal("a", a.Metadata.Name);
    }
}
