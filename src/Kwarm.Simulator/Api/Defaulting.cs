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

/// <summary>A structural schema of a CRD: defaults, pruning and the validations kube-apiserver runs.</summary>
public static class SchemaValidation
{
    /// <summary>Applies defaults and prunes unknown fields in place; returns the paths it pruned.</summary>
    public static IReadOnlyList<string> DefaultAndPrune(JsonObject schema, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(obj);
        var pruned = new List<string>();
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, propertySchema) in properties)
            {
                if (name is "metadata" or "apiVersion" or "kind" || propertySchema is not JsonObject ps)
                {
                    continue;
                }

                if (!obj.ContainsKey(name) && ps["default"] is { } d)
                {
                    obj[name] = d.DeepClone();
                }

                Walk(ps, obj[name], name, pruned);
            }

            if (schema.Bool("x-kubernetes-preserve-unknown-fields") != true)
            {
                foreach (var key in obj.Select(p => p.Key).Where(k => k is not ("metadata" or "apiVersion" or "kind") && !properties.ContainsKey(k)).ToList())
                {
                    obj.Remove(key);
                    pruned.Add(key);
                }
            }
        }

        return pruned;
    }

    private static void Walk(JsonObject schema, JsonNode? value, string path, List<string> pruned)
    {
        switch (value)
        {
            case JsonObject obj when schema["properties"] is JsonObject properties:
                foreach (var (name, propertySchema) in properties)
                {
                    if (propertySchema is not JsonObject ps)
                    {
                        continue;
                    }

                    if (!obj.ContainsKey(name) && ps["default"] is { } d)
                    {
                        obj[name] = d.DeepClone();
                    }

                    Walk(ps, obj[name], $"{path}.{name}", pruned);
                }

                if (schema.Bool("x-kubernetes-preserve-unknown-fields") != true)
                {
                    foreach (var key in obj.Select(p => p.Key).Where(k => !properties.ContainsKey(k)).ToList())
                    {
                        obj.Remove(key);
                        pruned.Add($"{path}.{key}");
                    }
                }

                break;
            case JsonObject map when schema["additionalProperties"] is JsonObject valueSchema:
                foreach (var (key, item) in map)
                {
                    Walk(valueSchema, item, $"{path}.{key}", pruned);
                }

                break;
            case JsonArray array when schema["items"] is JsonObject itemSchema:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(itemSchema, array[i], $"{path}[{i}]", pruned);
                }

                break;
        }
    }

    /// <summary>Checks types, enums, bounds, patterns and required fields; returns (field, message) causes.</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(JsonObject schema, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(obj);
        var causes = new List<(string, string)>();
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, ps) in properties)
            {
                if (name is "metadata" or "apiVersion" or "kind" || ps is not JsonObject propertySchema || !obj.TryGetPropertyValue(name, out var value))
                {
                    continue;
                }

                Check(propertySchema, value, name, causes);
            }
        }

        return causes;
    }

    private static void Check(JsonObject schema, JsonNode? value, string path, List<(string, string)> causes)
    {
        if (value is null)
        {
            if (schema.Bool("nullable") != true)
            {
                causes.Add((path, $"Invalid value: \"null\": {path} in body must be of type {schema.Str("type") ?? "object"}: \"null\""));
            }

            return;
        }

        var type = schema.Str("type");
        var kind = value.GetValueKind();
        var intOrString = schema.Bool("x-kubernetes-int-or-string") == true;
        var typeOk = intOrString ? kind is JsonValueKind.Number or JsonValueKind.String : type switch
        {
            "object" => kind == JsonValueKind.Object,
            "array" => kind == JsonValueKind.Array,
            "string" => kind == JsonValueKind.String,
            "integer" => kind == JsonValueKind.Number && !value.ToJsonString().Contains('.', StringComparison.Ordinal) && !value.ToJsonString().Contains('e', StringComparison.OrdinalIgnoreCase),
            "number" => kind == JsonValueKind.Number,
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            _ => true,
        };
        if (!typeOk)
        {
            causes.Add((path, $"Invalid value: \"{KindName(kind)}\": {path} in body must be of type {type}: \"{KindName(kind)}\""));
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            var list = string.Join(", ", allowed.Select(a => a?.ToJsonString()));
            causes.Add((path, $"Unsupported value: {value.ToJsonString()}: supported values: {list}"));
        }

        if (kind == JsonValueKind.Number)
        {
            var number = double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
            if (schema["minimum"] is JsonValue min && number < double.Parse(min.ToJsonString(), CultureInfo.InvariantCulture))
            {
                causes.Add((path, $"Invalid value: {value.ToJsonString()}: {path} in body should be greater than or equal to {min.ToJsonString()}"));
            }

            if (schema["maximum"] is JsonValue max && number > double.Parse(max.ToJsonString(), CultureInfo.InvariantCulture))
            {
                causes.Add((path, $"Invalid value: {value.ToJsonString()}: {path} in body should be less than or equal to {max.ToJsonString()}"));
            }
        }

        if (kind == JsonValueKind.String && schema.Str("pattern") is { } pattern)
        {
            var text = value.GetValue<string>();
            if (!Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                causes.Add((path, $"Invalid value: \"{text}\": {path} in body should match '{pattern}'"));
            }
        }

        if (value is JsonObject obj)
        {
            if (schema["required"] is JsonArray required)
            {
                foreach (var name in required.Select(r => r?.ToString() ?? ""))
                {
                    if (!obj.ContainsKey(name))
                    {
                        causes.Add(($"{path}.{name}", "Required value"));
                    }
                }
            }

            if (schema["properties"] is JsonObject properties)
            {
                foreach (var (name, ps) in properties)
                {
                    if (ps is JsonObject propertySchema && obj.TryGetPropertyValue(name, out var child))
                    {
                        Check(propertySchema, child, $"{path}.{name}", causes);
                    }
                }
            }
            else if (schema["additionalProperties"] is JsonObject valueSchema)
            {
                foreach (var (name, child) in obj)
                {
                    Check(valueSchema, child, $"{path}.{name}", causes);
                }
            }
        }
        else if (value is JsonArray array && schema["items"] is JsonObject itemSchema)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Check(itemSchema, array[i], $"{path}[{i}]", causes);
            }
        }
    }

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
