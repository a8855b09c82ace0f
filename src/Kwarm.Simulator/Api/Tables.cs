using System.Globalization;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>Server-side printing (meta.k8s.io/v1 Table) so <c>kubectl get</c> shows the columns it shows on a cluster.</summary>
public static class Tables
{
    /// <summary>
    /// A Table of <paramref name="items"/> with every column, the wide ones (<c>priority: 1</c>) included: kubectl shows
    /// those only for <c>-o wide</c>. A watch answers each event with a one-row Table of the same columns (see
    /// <see cref="ApiServer"/>), so <c>kubectl get -o wide -w</c> keeps them.
    /// </summary>
    public static JsonObject Build(ResourceType type, IReadOnlyList<JsonObject> items, DateTimeOffset now, long resourceVersion, string? includeObject)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(items);
        var columns = Columns(type);

        // The API server prints built-in types from their Go structs, where an omitted count is a 0 (UP-TO-DATE 0 on a
        // held Deployment); a custom resource's printer column for an absent field is empty.
        var builtIn = ResourceCatalog.BuiltIns.Any(b => b.StorageKey == type.StorageKey);
        var rows = new JsonArray();
        foreach (var item in items)
        {
            var cells = new JsonArray();
            foreach (var column in columns)
            {
                cells.Add(Cell(column, item, now, builtIn));
            }

            var row = new JsonObject { ["cells"] = cells };
            if (includeObject != "None")
            {
                var partial = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = item["metadata"]?.DeepClone(),
                };
                row["object"] = includeObject == "Object" ? item.DeepClone() : partial;
            }

            rows.Add(row);
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["columnDefinitions"] = new JsonArray([.. columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Name == "Name" ? "name" : "",
                ["description"] = c.Description ?? c.Name,
                ["priority"] = c.Priority,
            })]),
            ["rows"] = rows,
        };
    }

    private static List<PrinterColumn> Columns(ResourceType type)
    {
        var name = new PrinterColumn("Name", "string", ".metadata.name");
        var age = new PrinterColumn("Age", "date", ".metadata.creationTimestamp");
        return type.StorageKey switch
        {
            "pods" => [name, new("Ready", "string", "ready"), new("Status", "string", "podStatus"), new("Restarts", "string", "restarts"), age,
                new("IP", "string", ".status.podIP", Priority: 1), new("Node", "string", ".spec.nodeName", Priority: 1),
                new("Nominated Node", "string", ".status.nominatedNodeName", Priority: 1), new("Readiness Gates", "string", "readinessGates", Priority: 1)],
            "deployments.apps" => [name, new("Ready", "string", "readyOf"), new("Up-to-date", "integer", ".status.updatedReplicas"), new("Available", "integer", ".status.availableReplicas"), age, .. Workload],
            "replicasets.apps" => [name, new("Desired", "integer", ".spec.replicas"), new("Current", "integer", ".status.replicas"), new("Ready", "integer", ".status.readyReplicas"), age, .. Workload],
            "statefulsets.apps" => [name, new("Ready", "string", "readyOf"), age, .. Workload[..2]],
            "daemonsets.apps" => [name, new("Desired", "integer", ".status.desiredNumberScheduled"), new("Current", "integer", ".status.currentNumberScheduled"),
                new("Ready", "integer", ".status.numberReady"), new("Up-to-date", "integer", ".status.updatedNumberScheduled"), new("Available", "integer", ".status.numberAvailable"),
                new("Node Selector", "string", "nodeSelector"), age, .. Workload],
            "controllerrevisions.apps" => [name, new("Controller", "string", "controllerOf"), new("Revision", "integer", ".revision"), age],
            "jobs.batch" => [name, new("Status", "string", "jobStatus"), new("Completions", "string", "completions"), age, .. Workload],
            "nodes" => [name, new("Status", "string", "nodeStatus"), new("Roles", "string", "roles"), age, new("Version", "string", ".status.nodeInfo.kubeletVersion"),
                new("Internal-IP", "string", "internalIP", Priority: 1), new("External-IP", "string", "externalIP", Priority: 1),
                new("OS-Image", "string", ".status.nodeInfo.osImage", Priority: 1), new("Kernel-Version", "string", ".status.nodeInfo.kernelVersion", Priority: 1),
                new("Container-Runtime", "string", ".status.nodeInfo.containerRuntimeVersion", Priority: 1)],
            "namespaces" => [name, new("Status", "string", ".status.phase"), age],
            "services" => [name, new("Type", "string", ".spec.type"), new("Cluster-IP", "string", ".spec.clusterIP"), new("External-IP", "string", "externalIPs"),
                new("Port(s)", "string", "servicePorts"), age, new("Selector", "string", "serviceSelector", Priority: 1)],
            "poddisruptionbudgets.policy" => [name, new("Min Available", "string", ".spec.minAvailable"), new("Max Unavailable", "string", ".spec.maxUnavailable"),
                new("Allowed Disruptions", "integer", ".status.disruptionsAllowed"), age],
            "roles.rbac.authorization.k8s.io" or "clusterroles.rbac.authorization.k8s.io" => [name, new("Created At", "string", "createdAt")],
            "rolebindings.rbac.authorization.k8s.io" or "clusterrolebindings.rbac.authorization.k8s.io" => [name, new("Role", "string", "roleRef"), age,
                new("Users", "string", "subjects:User", Priority: 1), new("Groups", "string", "subjects:Group", Priority: 1), new("ServiceAccounts", "string", "subjects:ServiceAccount", Priority: 1)],
            "events" => [new("Last Seen", "string", "lastSeen"), new("Type", "string", ".type"), new("Reason", "string", ".reason"), new("Object", "string", "involved"), new("Message", "string", ".message")],
            _ when type.PrinterColumns.Count > 0 => [name, .. type.PrinterColumns.Select(c => c.Name == "Age" ? age : c)],
            _ => [name, age],
        };
    }

    /// <summary>The wide columns of Deployments, ReplicaSets, DaemonSets and Jobs (StatefulSets print the first two only).</summary>
    private static readonly PrinterColumn[] Workload =
    [
        new("Containers", "string", "containerNames", Priority: 1),
        new("Images", "string", "containerImages", Priority: 1),
        new("Selector", "string", "selector", Priority: 1),
    ];

    private static JsonNode? Cell(PrinterColumn column, JsonObject item, DateTimeOffset now, bool builtIn)
    {
        if (column.Type == "date" || column.Name == "Age")
        {
            return Age(JsonPaths.ParseTimestamp(Lookup(item, column.JsonPath)?.ToString()), now);
        }

        switch (column.JsonPath)
        {
            case "ready":
                {
                    var statuses = item.Objects("status", "containerStatuses").ToList();
                    return $"{statuses.Count(s => s.Bool("ready") == true)}/{item.Objects("spec", "containers").Count()}";
                }

            case "podStatus":
                return item.Str("metadata", "deletionTimestamp") is not null ? "Terminating" :
                    item.Objects("status", "containerStatuses").Select(s => s.Str("state", "waiting", "reason")).FirstOrDefault(r => r is not null)
                    ?? item.Str("status", "phase") ?? "Pending";
            case "restarts":
                return item.Objects("status", "containerStatuses").Sum(s => s.Long("restartCount") ?? 0).ToString(CultureInfo.InvariantCulture);
            case "readyOf":
                return $"{item.Long("status", "readyReplicas") ?? 0}/{item.Long("spec", "replicas") ?? 0}";
            case "nodeSelector":
                {
                    var pairs = item.StringMap("spec", "template", "spec", "nodeSelector").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}").ToList();
                    return pairs.Count == 0 ? "<none>" : string.Join(",", pairs);
                }

            case "controllerOf":
                {
                    // As kubectl names a resource: lower-case Kind.group/name ("statefulset.apps/web").
                    var owner = item.Objects("metadata", "ownerReferences").FirstOrDefault(o => o.Bool("controller") == true);
                    if (owner is null)
                    {
                        return "<none>";
                    }

                    var apiVersion = owner.Str("apiVersion") ?? "";
                    var group = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : "";
                    var kind = owner.Str("kind")?.ToLowerInvariant();
                    return group.Length == 0 ? $"{kind}/{owner.Str("name")}" : $"{kind}.{group}/{owner.Str("name")}";
                }

            case "jobStatus":
                return item.Objects("status", "conditions").FirstOrDefault(c => c.Str("status") == "True" && c.Str("type") is "Complete" or "Failed")?.Str("type")
                    ?? "Running";
            case "completions":
                return $"{item.Long("status", "succeeded") ?? 0}/{item.Long("spec", "completions") ?? 1}";
            case "nodeStatus":
                {
                    var ready = item.Objects("status", "conditions").FirstOrDefault(c => c.Str("type") == "Ready")?.Str("status") == "True" ? "Ready" : "NotReady";
                    return item.Bool("spec", "unschedulable") == true ? ready + ",SchedulingDisabled" : ready;
                }

            case "roles":
                {
                    var roles = item.StringMap("metadata", "labels").Keys.Where(k => k.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal)).Select(k => k["node-role.kubernetes.io/".Length..]).ToList();
                    return roles.Count == 0 ? "<none>" : string.Join(",", roles);
                }

            case "lastSeen":
                return Age(JsonPaths.ParseTimestamp(item.Str("lastTimestamp") ?? item.Str("eventTime") ?? item.Str("metadata", "creationTimestamp")), now);
            case "involved":
                return $"{item.Str("involvedObject", "kind")?.ToLowerInvariant()}/{item.Str("involvedObject", "name")}";
            case "containerNames":
                return string.Join(",", item.Objects("spec", "template", "spec", "containers").Select(c => c.Str("name")));
            case "containerImages":
                return string.Join(",", item.Objects("spec", "template", "spec", "containers").Select(c => c.Str("image")));
            case "selector":
                return ApiServer.LabelSelectorText(item.At("spec", "selector")) is { Length: > 0 } labelSelector ? labelSelector : "<none>";
            case "readinessGates":
                return item.Objects("spec", "readinessGates").Any()
                    ? string.Join(",", item.Objects("spec", "readinessGates").Select(g => g.Str("conditionType")))
                    : "<none>";
            case "internalIP" or "externalIP":
                {
                    var kind = column.JsonPath == "internalIP" ? "InternalIP" : "ExternalIP";
                    return item.Objects("status", "addresses").FirstOrDefault(a => a.Str("type") == kind)?.Str("address") ?? "<none>";
                }

            case "externalIPs":
                return item.At("spec", "externalIPs") is JsonArray { Count: > 0 } external ? string.Join(",", external.Select(ip => ip?.ToString())) : "<none>";
            case "servicePorts":
                {
                    var ports = item.Objects("spec", "ports").Select(p => $"{p.Long("port")}/{p.Str("protocol") ?? "TCP"}").ToList();
                    return ports.Count == 0 ? "<none>" : string.Join(",", ports);
                }

            case "serviceSelector":
                {
                    var pairs = item.StringMap("spec", "selector").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}").ToList();
                    return pairs.Count == 0 ? "<none>" : string.Join(",", pairs);
                }

            case ".spec.minAvailable" or ".spec.maxUnavailable":
                return Lookup(item, column.JsonPath)?.ToString() ?? "N/A";
            case "createdAt":
                return item.Str("metadata", "creationTimestamp") ?? "<unknown>";
            case "roleRef":
                return $"{item.Str("roleRef", "kind")}/{item.Str("roleRef", "name")}";
            case var subjects when subjects.StartsWith("subjects:", StringComparison.Ordinal):
                {
                    var kind = subjects["subjects:".Length..];
                    var names = item.Objects("subjects").Where(s => s.Str("kind") == kind)
                        .Select(s => kind == "ServiceAccount" ? $"{s.Str("namespace")}/{s.Str("name")}" : s.Str("name")).ToList();
                    return string.Join(", ", names);
                }
        }

        var value = Lookup(item, column.JsonPath);
        return value switch
        {
            null when builtIn && column.Type is "integer" => 0,
            null => column.Type is "integer" or "number" ? null : "<none>",
            JsonValue v => v.DeepClone(),
            _ => value.ToJsonString(),
        };
    }

    /// <summary>Resolves the simple JSONPath subset printer columns use: <c>.a.b</c> and <c>.a[0].b</c>.</summary>
    internal static JsonNode? Lookup(JsonNode? node, string path)
    {
        foreach (var raw in path.TrimStart('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw;
            int? index = null;
            var bracket = raw.IndexOf('[', StringComparison.Ordinal);
            if (bracket > 0 && raw.EndsWith(']') && int.TryParse(raw[(bracket + 1)..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                segment = raw[..bracket];
                index = i;
            }

            node = (node as JsonObject)?[segment];
            if (index is { } at)
            {
                node = node is JsonArray array && at < array.Count ? array[at] : null;
            }
        }

        return node;
    }

    private static string Age(DateTimeOffset? since, DateTimeOffset now)
    {
        if (since is null)
        {
            return "<unknown>";
        }

        var elapsed = now - since.Value;
        return elapsed.TotalSeconds < 120 ? $"{Math.Max(0, (int)elapsed.TotalSeconds)}s"
            : elapsed.TotalMinutes < 120 ? $"{(int)elapsed.TotalMinutes}m"
            : elapsed.TotalHours < 48 ? $"{(int)elapsed.TotalHours}h"
            : $"{(int)elapsed.TotalDays}d";
    }
}
