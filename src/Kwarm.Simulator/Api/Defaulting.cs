using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kwarm.Simulator.Api;

/// <summary>The defaults kube-apiserver fills in for the built-in types the simulator serves.</summary>
public static class BuiltInDefaults
{
    public static void Apply(ResourceType type, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        switch (type.StorageKey)
        {
            case "deployments.apps":
                {
                    var spec = obj.Obj("spec");
                    spec["replicas"] ??= 1;
                    var strategy = spec.Obj("strategy");
                    strategy["type"] ??= "RollingUpdate";
                    if (strategy.Str("type") == "RollingUpdate")
                    {
                        var rolling = strategy.Obj("rollingUpdate");
                        rolling["maxUnavailable"] ??= "25%";
                        rolling["maxSurge"] ??= "25%";
                    }

                    spec["revisionHistoryLimit"] ??= 10;
                    spec["progressDeadlineSeconds"] ??= 600;

                    // paused is a Go bool with omitempty: a stored false reads back as no field (measured on v1.24), so
                    // a JSON patch that tests or replaces /spec/paused after a resume fails as it does on a cluster.
                    if (spec["paused"] is JsonValue paused && paused.GetValueKind() == JsonValueKind.False)
                    {
                        spec.Remove("paused");
                    }

                    Template(spec, "Always");
                    obj["status"] ??= new JsonObject();
                    break;
                }

            case "replicasets.apps":
                {
                    var spec = obj.Obj("spec");
                    spec["replicas"] ??= 1;
                    Template(spec, "Always");
                    obj["status"] ??= new JsonObject { ["replicas"] = 0 };
                    break;
                }

            case "statefulsets.apps":
                StatefulSetSpec(obj);
                break;

            case "daemonsets.apps":
                DaemonSetSpec(obj);
                break;

            case "jobs.batch":
                {
                    var spec = obj.Obj("spec");
                    spec["backoffLimit"] ??= 6;
                    spec["completions"] ??= 1;
                    spec["parallelism"] ??= 1;
                    spec["completionMode"] ??= "NonIndexed";
                    spec["suspend"] ??= false;
                    Template(spec, null);
                    obj["status"] ??= new JsonObject();
                    break;
                }

            case "pods":
                {
                    var spec = obj.Obj("spec");
                    PodSpec(spec, "Always");
                    spec["serviceAccountName"] ??= "default";
                    spec["serviceAccount"] ??= spec.Str("serviceAccountName");
                    spec["enableServiceLinks"] ??= true;
                    spec["priority"] ??= 0;
                    var status = obj.Obj("status");
                    status["phase"] ??= "Pending";
                    status["qosClass"] ??= QosClass(spec);
                    break;
                }

            case "namespaces":
                {
                    obj.Metadata().Obj("labels")["kubernetes.io/metadata.name"] = obj.Metadata().Str("name");
                    var spec = obj.Obj("spec");
                    spec["finalizers"] ??= new JsonArray("kubernetes");
                    obj.Obj("status")["phase"] ??= "Active";
                    break;
                }

            case "nodes":
                // spec.taints is a Go slice with omitempty: a JSON patch that removes the last taint leaves no field
                // (measured on v1.24), so a client's next test of /spec/taints/0 fails there as on a cluster.
                if (obj["spec"] is JsonObject nodeSpec && nodeSpec["taints"] is JsonArray { Count: 0 })
                {
                    nodeSpec.Remove("taints");
                }

                break;

            case "secrets":
                obj["type"] ??= "Opaque";
                break;

            case "services":
                ServiceSpec(obj);
                break;

            case "mutatingwebhookconfigurations.admissionregistration.k8s.io":
                foreach (var webhook in obj.Objects("webhooks"))
                {
                    webhook["failurePolicy"] ??= "Fail";
                    webhook["matchPolicy"] ??= "Equivalent";
                    webhook["namespaceSelector"] ??= new JsonObject();
                    webhook["objectSelector"] ??= new JsonObject();
                    webhook["reinvocationPolicy"] ??= "Never";
                    webhook["timeoutSeconds"] ??= 10;
                    if (webhook.At("clientConfig", "service") is JsonObject service)
                    {
                        service["port"] ??= 443;
                    }

                    foreach (var rule in webhook.Objects("rules"))
                    {
                        rule["scope"] ??= "*";
                    }
                }

                break;
        }
    }

    /// <summary>
    /// apps/v1 StatefulSet defaulting of kube-apiserver v1.24: <c>rollingUpdate: {partition: 0}</c> is filled in only
    /// when the strategy type was empty; a <c>type: RollingUpdate</c> without <c>rollingUpdate</c> is stored as it is
    /// (measured). <c>persistentVolumeClaimRetentionPolicy</c> is an alpha feature off in 1.24, so it is not stored.
    /// The counts of a status are plain integers (no omitempty) in the Go type: a new object reads them as 0.
    /// </summary>
    private static void StatefulSetSpec(JsonObject statefulSet)
    {
        var spec = statefulSet.Obj("spec");
        spec["podManagementPolicy"] ??= "OrderedReady";
        var strategy = spec.Obj("updateStrategy");
        if (string.IsNullOrEmpty(strategy.Str("type")))
        {
            strategy["type"] = "RollingUpdate";
            strategy["rollingUpdate"] ??= new JsonObject();
        }

        if (strategy.Str("type") == "RollingUpdate" && strategy["rollingUpdate"] is JsonObject rolling)
        {
            rolling["partition"] ??= 0;
        }

        spec["replicas"] ??= 1;
        spec["revisionHistoryLimit"] ??= 10;
        Template(spec, "Always");
        statefulSet["status"] ??= new JsonObject { ["replicas"] = 0, ["availableReplicas"] = 0 };
    }

    /// <summary>
    /// apps/v1 DaemonSet defaulting: a RollingUpdate strategy gets <c>maxUnavailable: 1</c> and <c>maxSurge: 0</c>. A
    /// <c>rollingUpdate</c> block beside another type is kept (v1.24 does not refuse it) and its missing fields read
    /// back as 0, the internal type's zero values (measured: OnDelete with <c>{maxUnavailable: 2}</c> is stored with
    /// <c>maxSurge: 0</c>).
    /// </summary>
    private static void DaemonSetSpec(JsonObject daemonSet)
    {
        var spec = daemonSet.Obj("spec");
        var strategy = spec.Obj("updateStrategy");
        if (string.IsNullOrEmpty(strategy.Str("type")))
        {
            strategy["type"] = "RollingUpdate";
        }

        if (strategy.Str("type") == "RollingUpdate")
        {
            var rolling = strategy.Obj("rollingUpdate");
            rolling["maxUnavailable"] ??= 1;
            rolling["maxSurge"] ??= 0;
        }
        else if (strategy["rollingUpdate"] is JsonObject rolling)
        {
            rolling["maxUnavailable"] ??= 0;
            rolling["maxSurge"] ??= 0;
        }

        spec["revisionHistoryLimit"] ??= 10;
        Template(spec, "Always");
        daemonSet["status"] ??= new JsonObject { ["currentNumberScheduled"] = 0, ["numberMisscheduled"] = 0, ["desiredNumberScheduled"] = 0, ["numberReady"] = 0 };
    }

    /// <summary>
    /// A Service is stored, not routed (no endpoints, no proxy): it gets the fields the API server fills in, with a
    /// cluster IP derived from its name so that an update without one keeps the same address, as the real one does.
    /// </summary>
    private static void ServiceSpec(JsonObject service)
    {
        var spec = service.Obj("spec");
        spec["type"] ??= "ClusterIP";
        spec["sessionAffinity"] ??= "None";
        if (spec.Str("type") != "ExternalName")
        {
            var metadata = service.Metadata();
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{metadata.Str("namespace")}/{metadata.Str("name") ?? metadata.Str("generateName")}"));
            spec["clusterIP"] ??= string.Create(CultureInfo.InvariantCulture, $"10.96.{hash[0]}.{1 + (hash[1] % 254)}");
            spec["clusterIPs"] ??= new JsonArray(spec.Str("clusterIP"));
            spec["ipFamilies"] ??= new JsonArray("IPv4");
            spec["ipFamilyPolicy"] ??= "SingleStack";
            spec["internalTrafficPolicy"] ??= "Cluster";
        }

        foreach (var port in spec.Objects("ports"))
        {
            port["protocol"] ??= "TCP";
            port["targetPort"] ??= port["port"]?.DeepClone();
        }

        service["status"] ??= new JsonObject { ["loadBalancer"] = new JsonObject() };
    }

    private static void Template(JsonObject spec, string? restartPolicy)
    {
        var template = spec.Obj("template");
        var metadata = template.Obj("metadata");
        if (!metadata.ContainsKey("creationTimestamp"))
        {
            metadata["creationTimestamp"] = null;
        }

        PodSpec(template.Obj("spec"), restartPolicy);
    }

    private static void PodSpec(JsonObject spec, string? restartPolicy)
    {
        if (restartPolicy is not null)
        {
            spec["restartPolicy"] ??= restartPolicy;
        }

        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["securityContext"] ??= new JsonObject();
        spec["schedulerName"] ??= "default-scheduler";
        foreach (var list in new[] { "initContainers", "containers" })
        {
            foreach (var container in spec.Objects(list))
            {
                container["resources"] ??= new JsonObject();
                container["terminationMessagePath"] ??= "/dev/termination-log";
                container["terminationMessagePolicy"] ??= "File";
                container["imagePullPolicy"] ??= PullPolicyFor(container.Str("image"));
            }
        }
    }

    /// <summary>Always for <c>:latest</c> or untagged references, IfNotPresent otherwise (digests included).</summary>
    public static string PullPolicyFor(string? image)
    {
        if (string.IsNullOrEmpty(image) || image.Contains('@', StringComparison.Ordinal))
        {
            return "IfNotPresent";
        }

        var lastSlash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon <= lastSlash || image[(colon + 1)..] == "latest" ? "Always" : "IfNotPresent";
    }

    private static string QosClass(JsonObject spec)
    {
        var containers = spec.Objects("containers").ToList();
        var anyResources = containers.Any(c => c.At("resources", "requests") is JsonObject { Count: > 0 } || c.At("resources", "limits") is JsonObject { Count: > 0 });
        return anyResources ? "Burstable" : "BestEffort";
    }
}
