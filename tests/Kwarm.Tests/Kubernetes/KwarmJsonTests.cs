using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Tests.Resources;
using Microsoft.Extensions.DependencyInjection;

namespace Kwarm.Tests.Kubernetes;

/// <summary>
/// Kwarm's source-generated JSON (what the ahead-of-time compiled binary uses) against KubernetesClient's own
/// reflection-based JSON: the same bytes on the wire for the same objects, and every informer type covered.
/// </summary>
public sealed class KwarmJsonTests
{
    public static TheoryData<string, string> RecordedObjects()
    {
        var data = new TheoryData<string, string>
        {
            { "Deployment", ApiFixtures.Json("get-deployment.json").ToJsonString() },
            { "Deployment", ApiFixtures.ListedDeployment().ToJsonString() },
            { "Status", ApiFixtures.Text("get-missing-404.json") },
            { "Status", ApiFixtures.Text("put-stale-resourceversion-409.json") },
            { "PrePullImage", StatusExamples.PrePullImageInProgress().ToJsonString() },
            { "PrePullPolicy", StatusExamples.PrePullPolicyActive().ToJsonString() },
        };
        foreach (var watchEvent in ApiFixtures.CompleteStreamEvents())
        {
            var watchObject = watchEvent["object"]!;
            data.Add(watchObject["kind"]!.GetValue<string>(), watchObject.ToJsonString());
        }

        foreach (var sample in Samples.ManifestFileNames)
        {
            var manifest = Samples.Read(sample);
            data.Add(manifest["kind"]!.GetValue<string>(), manifest.ToJsonString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RecordedObjects))]
    public void Reads_and_writes_recorded_objects_as_the_client_does(string kind, string json)
    {
        switch (kind)
        {
            case V1Deployment.KubeKind:
                AssertSameAsClient<V1Deployment>(json);
                break;
            case V1StatefulSet.KubeKind:
                AssertSameAsClient<V1StatefulSet>(json);
                break;
            case V1DaemonSet.KubeKind:
                AssertSameAsClient<V1DaemonSet>(json);
                break;
            case V1Status.KubeKind:
                // Kwarm only reads a Status (the client's converter cannot write one): compare what it reads.
                var byClient = KubernetesJson.Deserialize<V1Status>(json);
                var byKwarm = KwarmJson.Deserialize<V1Status>(json)!;
                Assert.Equal((byClient.Code, byClient.Reason, byClient.Message, byClient.Status), (byKwarm.Code, byKwarm.Reason, byKwarm.Message, byKwarm.Status));
                Assert.Equal(byClient.Details?.Name, byKwarm.Details?.Name);
                Assert.NotNull(byKwarm.Reason);
                break;
            case PrePullImage.KubeKind:
                AssertSameAsClient<PrePullImage>(json);
                break;
            case PrePullPolicy.KubeKind:
                AssertSameAsClient<PrePullPolicy>(json);
                break;
            default:
                Assert.Fail($"no type for kind {kind}");
                break;
        }
    }

    [Fact]
    public void Writes_times_as_the_API_server_parses_them()
    {
        // A Lease's renewTime is a MicroTime (exactly six fractional digits) and an Event's lastTimestamp a Time:
        // both go through the client's converter, which a default System.Text.Json date would not match.
        var renewed = new DateTime(2026, 11, 26, 15, 4, 5, DateTimeKind.Utc).AddTicks(1_234_567);
        var lease = new V1Lease
        {
            ApiVersion = "coordination.k8s.io/v1",
            Kind = V1Lease.KubeKind,
            Metadata = new V1ObjectMeta { Name = "kwarm-leader", NamespaceProperty = "kwarm-system" },
            Spec = new V1LeaseSpec { HolderIdentity = "kwarm-abc", LeaseDurationSeconds = 15, RenewTime = renewed, AcquireTime = renewed },
        };
        var written = KwarmJson.Serialize(lease);
        Assert.Equal(KubernetesJson.Serialize(lease), written);
        Assert.Contains("\"renewTime\":\"2026-11-26T15:04:05.123456Z\"", written, StringComparison.Ordinal);

        var hookEvent = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "web.hold", NamespaceProperty = "shop" },
            InvolvedObject = new V1ObjectReference { Kind = V1Deployment.KubeKind, Name = "web", NamespaceProperty = "shop" },
            Reason = "Held",
            Count = 2,
            LastTimestamp = renewed,
        };
        Assert.Equal(KubernetesJson.Serialize(hookEvent), KwarmJson.Serialize(hookEvent));
    }

    [Fact]
    public void Writes_a_job_and_delete_options_as_the_client_does()
    {
        var job = new V1Job
        {
            Metadata = new V1ObjectMeta { Name = "kwarm-pull-1", NamespaceProperty = "kwarm-system", Labels = new Dictionary<string, string> { ["a"] = "b" } },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                ActiveDeadlineSeconds = 600,
                Template = new V1PodTemplateSpec
                {
                    Spec = new V1PodSpec
                    {
                        NodeName = "node-1",
                        RestartPolicy = "Never",
                        Containers = [new V1Container { Name = "pull", Image = "ghcr.io/acme/web:2", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m") } } }],
                    },
                },
            },
        };
        var written = KwarmJson.Serialize(job);
        Assert.Equal(KubernetesJson.Serialize(job), written);
        Assert.Contains("\"cpu\":\"10m\"", written, StringComparison.Ordinal);
        Assert.Equal(KubernetesJson.Serialize(KubernetesJson.Deserialize<V1Job>(written)), KwarmJson.Serialize(KwarmJson.Deserialize<V1Job>(written)));

        var options = new V1DeleteOptions { PropagationPolicy = "Background", Preconditions = new V1Preconditions { Uid = "u-1" } };
        Assert.Equal(KubernetesJson.Serialize(options), KwarmJson.Serialize(options));
    }

    [Fact]
    public void Every_informer_type_and_its_watch_line_is_in_the_context()
    {
        var services = new ServiceCollection().AddLogging().AddKwarmKubernetes();
        var informed = services
            .Select(descriptor => descriptor.ServiceType)
            .Where(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ResourceInformer<>))
            .Select(type => type.GetGenericArguments()[0])
            .ToList();
        Assert.Equal(10, informed.Count);
        foreach (var type in informed)
        {
            var typeInfo = typeof(KwarmJson).GetMethod(nameof(KwarmJson.TypeInfo))!;
            Assert.NotNull(typeInfo.MakeGenericMethod(type).Invoke(null, null));
            Assert.NotNull(typeInfo.MakeGenericMethod(typeof(WatchLine<>).MakeGenericType(type)).Invoke(null, null));
        }
    }

    [Fact]
    public void A_type_outside_the_context_fails_naming_the_type()
    {
        var error = Assert.Throws<NotSupportedException>(() => KwarmJson.Serialize(new V1ConfigMap()));
        Assert.Contains(nameof(V1ConfigMap), error.Message, StringComparison.Ordinal);
    }

    private static void AssertSameAsClient<T>(string json)
    {
        var byClient = KubernetesJson.Deserialize<T>(json);
        var byKwarm = KwarmJson.Deserialize<T>(json);
        Assert.NotNull(byKwarm);
        var expected = KubernetesJson.Serialize(byClient);
        Assert.Equal(expected, KwarmJson.Serialize(byClient));
        Assert.Equal(expected, KwarmJson.Serialize(byKwarm));
        Assert.True(expected.Length > 40, "the object should not read as empty: " + expected);
    }
}
