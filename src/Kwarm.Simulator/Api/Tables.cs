using System.Globalization;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>Server-side printing (meta.k8s.io/v1 Table) so <c>kubectl get</c> shows the columns it shows on a cluster.</summary>
public static class Tables
{
    public static JsonObject Build(ResourceType type, IReadOnlyList<JsonObject> items, DateTimeOffset now, long resourceVersion, string? includeObject)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(items);
        var columns = Columns(type);
        var rows = new JsonArray();
        foreach (var item in items)
        {
            var cells = new JsonArray();
            foreach (var column in columns)
            {
                cells.Add(Cell(column, item, now));
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
            "pods" => [name, new("Ready", "string", "ready"), new("Status", "string", "podStatus"), new("Restarts", "string", "restarts"), age, new("IP", "string", ".status.podIP", Priority: 1), new("Node", "string", ".spec.nodeName", Priority: 1)],
            "deployments.apps" => [name, new("Ready", "string", "readyOf"), new("Up-to-date", "integer", ".status.updatedReplicas"), new("Available", "integer", ".status.availableReplicas"), age],
            "replicasets.apps" => [name, new("Desired", "integer", ".spec.replicas"), new("Current", "integer", ".status.replicas"), new("Ready", "integer", ".status.readyReplicas"), age],
            "jobs.batch" => [name, new("Status", "string", "jobStatus"), new("Completions", "string", "completions"), age],
            "nodes" => [name, new("Status", "string", "nodeStatus"), new("Roles", "string", "roles"), age, new("Version", "string", ".status.nodeInfo.kubeletVersion")],
            "namespaces" => [name, new("Status", "string", ".status.phase"), age],
            "events" => [new("Last Seen", "string", "lastSeen"), new("Type", "string", ".type"), new("Reason", "string", ".reason"), new("Object", "string", "involved"), new("Message", "string", ".message")],
            _ when type.PrinterColumns.Count > 0 => [name, .. type.PrinterColumns.Select(c => c.Name == "Age" ? age : c)],
            _ => [name, age],
        };
    }

    private static JsonNode? Cell(PrinterColumn column, JsonObject item, DateTimeOffset now)
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
        }

        var value = Lookup(item, column.JsonPath);
        return value switch
        {
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
