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
