using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Holds;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Holds;

/// <summary>StatefulSets and DaemonSets in the hand-made cluster, written as kube-apiserver v1.24 stores them (defaults filled in).</summary>
internal sealed partial class HoldWorld
{
    /// <summary>A StatefulSet as the API server stores it: <c>updateStrategy</c> defaulted to RollingUpdate with partition 0 unless given.</summary>
    public static JsonObject StatefulSetJson(string name, string[] images, JsonNode? updateStrategy = null, int replicas = 3) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "StatefulSet",
        ["metadata"] = Metadata(name),
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = Template(name, images),
            ["serviceName"] = name,
            ["podManagementPolicy"] = "OrderedReady",
            ["updateStrategy"] = updateStrategy ?? JsonNode.Parse("""{"type":"RollingUpdate","rollingUpdate":{"partition":0}}"""),
            ["revisionHistoryLimit"] = 10,
        },
        ["status"] = new JsonObject { ["replicas"] = replicas, ["updatedReplicas"] = replicas, ["observedGeneration"] = 1 },
    };

    /// <summary>A DaemonSet as the API server stores it: <c>updateStrategy</c> defaulted to RollingUpdate, maxUnavailable 1, maxSurge 0 unless given.</summary>
    public static JsonObject DaemonSetJson(string name, string[] images, JsonNode? updateStrategy = null) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "DaemonSet",
        ["metadata"] = Metadata(name),
        ["spec"] = new JsonObject
        {
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = Template(name, images),
            ["updateStrategy"] = updateStrategy ?? JsonNode.Parse(HoldMechanics.DefaultDaemonSetStrategy),
            ["revisionHistoryLimit"] = 10,
        },
        ["status"] = new JsonObject { ["currentNumberScheduled"] = 4, ["desiredNumberScheduled"] = 4, ["updatedNumberScheduled"] = 4, ["numberReady"] = 4, ["observedGeneration"] = 1 },
    };

    /// <summary>Adds the object to the server and the cache as it is.</summary>
    public void Put(WorkloadKind kind, JsonObject workload)
    {
        var metadata = workload["metadata"]!;
        ServerWorkloads[WorkloadKeys.For(kind, (string?)metadata["namespace"], (string)metadata["name"]!)] = (JsonObject)workload.DeepClone();
        UpsertCached(kind, workload);
    }

    private Dictionary<string, JsonObject> ServerWorkloads => Api.ServerWorkloads;

    /// <summary>The server's copy of a StatefulSet or DaemonSet.</summary>
    public JsonObject Server(WorkloadKind kind, string name) => ServerWorkloads[WorkloadKeys.For(kind, Namespace, name)];

    /// <summary>What the webhook does to a StatefulSet or DaemonSet it holds: the hold's spec change and annotations, by the webhook's own patch.</summary>
    public void Hold(WorkloadKind kind, string name, Action<JsonObject> before)
    {
        var workload = (JsonObject)Server(kind, name).DeepClone();
        before(workload);
        Put(kind, workload);
    }

    public void UpsertCached(WorkloadKind kind, JsonObject workload)
    {
        var text = workload.ToJsonString();
        if (kind == WorkloadKind.StatefulSet)
        {
            StatefulSets.Upsert(KubernetesJson.Deserialize<V1StatefulSet>(text));
        }
        else
        {
            DaemonSets.Upsert(KubernetesJson.Deserialize<V1DaemonSet>(text));
        }
    }

    public IReadOnlyList<PrePullImage> ImagesOf(WorkloadKind kind, string name) =>
        [.. PrePullImages.ListInNamespace(Namespace).Where(image => PrePullImagePlanner.BelongsTo(image, kind, name)).OrderBy(image => image.Spec.Image, StringComparer.Ordinal)];

    public void SetAllPhases(WorkloadKind kind, string name, PrePullImagePhase phase)
    {
        foreach (var image in ImagesOf(kind, name))
        {
            SetPhase(image, phase);
        }
    }

    private static JsonObject Metadata(string name) => new()
    {
        ["name"] = name,
        ["namespace"] = Namespace,
        ["uid"] = "uid-" + name,
        ["resourceVersion"] = "1",
        ["generation"] = 1,
        ["creationTimestamp"] = "2026-02-01T09:00:00Z",
        ["labels"] = new JsonObject { [KwarmApi.EnabledLabel] = "true" },
    };

    private static JsonObject Template(string name, string[] images) => new()
    {
        ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
        ["spec"] = new JsonObject
        {
            ["containers"] = new JsonArray([.. images.Select((image, index) => (JsonNode)new JsonObject
            {
                ["name"] = "c" + index,
                ["image"] = image,
                ["imagePullPolicy"] = "IfNotPresent",
                ["terminationMessagePath"] = "/dev/termination-log",
                ["terminationMessagePolicy"] = "File",
            })]),
            ["restartPolicy"] = "Always",
            ["terminationGracePeriodSeconds"] = 30,
            ["dnsPolicy"] = "ClusterFirst",
            ["securityContext"] = new JsonObject(),
            ["schedulerName"] = "default-scheduler",
        },
    };
}
