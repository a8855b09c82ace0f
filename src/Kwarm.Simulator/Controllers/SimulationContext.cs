using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Controllers;

/// <summary>What every simulated controller shares: the store, the resource types, the clock and the registry.</summary>
public sealed class SimulationContext
{
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<string, string> _eventNames = new(StringComparer.Ordinal);

    public SimulationContext(ObjectStore store, ResourceCatalog catalog, SimulatorOptions options, ImageRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        Store = store;
        Catalog = catalog;
        Options = options;
        Registry = registry;
        Time = options.Time;
        Namespaces = catalog.Get("", "namespaces");
        Nodes = catalog.Get("", "nodes");
        Pods = catalog.Get("", "pods");
        Events = catalog.Get("", "events");
        Secrets = catalog.Get("", "secrets");
        ServiceAccounts = catalog.Get("", "serviceaccounts");
        Deployments = catalog.Get("apps", "deployments");
        ReplicaSets = catalog.Get("apps", "replicasets");
        StatefulSets = catalog.Get("apps", "statefulsets");
        DaemonSets = catalog.Get("apps", "daemonsets");
        ControllerRevisions = catalog.Get("apps", "controllerrevisions");
        Jobs = catalog.Get("batch", "jobs");
        Leases = catalog.Get("coordination.k8s.io", "leases");
    }

    public ObjectStore Store { get; }

    public ResourceCatalog Catalog { get; }

    public SimulatorOptions Options { get; }

    public ImageRegistry Registry { get; }

    public TimeProvider Time { get; }

    public ResourceType Namespaces { get; }

    public ResourceType Nodes { get; }

    public ResourceType Pods { get; }

    public ResourceType Events { get; }

    public ResourceType Secrets { get; }

    public ResourceType ServiceAccounts { get; }

    public ResourceType Deployments { get; }

    public ResourceType ReplicaSets { get; }

    public ResourceType StatefulSets { get; }

    public ResourceType DaemonSets { get; }

    public ResourceType ControllerRevisions { get; }

    public ResourceType Jobs { get; }

    public ResourceType Leases { get; }

    /// <summary>Whether kubelets and controllers write Event objects (off for large benchmarks).</summary>
    public bool RecordEvents { get; init; } = true;

    /// <summary>Unexpected controller failures (tests assert this stays empty).</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    public string Now => JsonPaths.Timestamp(Time.GetUtcNow());

    public TimeSpan Scaled(TimeSpan duration) => Options.Scaled(duration);

    public void ReportError(string controller, string key, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        _errors.Enqueue($"{controller} {key}: {error.GetType().Name}: {error.Message}");
        while (_errors.Count > 100)
        {
            _errors.TryDequeue(out _);
        }
    }

    /// <summary>Writes a core/v1 Event about <paramref name="involved"/>, as a controller or kubelet would.</summary>
    public void RecordEvent(JsonObject involved, string type, string reason, string message, string component, string? host = null, string? fieldPath = null)
    {
        ArgumentNullException.ThrowIfNull(involved);
        if (!RecordEvents)
        {
            return;
        }

        var metadata = involved.Metadata();
        var ns = metadata.Str("namespace") ?? "default";
        var now = Now;

        // Like client-go's event recorder, a repeat of the same event on the same object bumps count and lastTimestamp.
        var aggregate = $"{ns}/{metadata.Str("uid")}/{type}/{reason}/{fieldPath}/{message}";
        if (_eventNames.TryGetValue(aggregate, out var existing)
            && Store.Mutate(Events, ns, existing, e =>
            {
                e["count"] = (e.Long("count") ?? 1) + 1;
                e["lastTimestamp"] = now;
                return true;
            }) is not null)
        {
            return;
        }

        var involvedObject = new JsonObject
        {
            ["kind"] = involved.Str("kind"),
            ["namespace"] = metadata.Str("namespace"),
            ["name"] = metadata.Str("name"),
            ["uid"] = metadata.Str("uid"),
            ["apiVersion"] = involved.Str("apiVersion"),
            ["resourceVersion"] = metadata.Str("resourceVersion"),
        };
        if (fieldPath is not null)
        {
            involvedObject["fieldPath"] = fieldPath;
        }

        var source = new JsonObject { ["component"] = component };
        if (host is not null)
        {
            source["host"] = host;
        }

        var suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var evt = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = $"{metadata.Str("name")}.{suffix}", ["namespace"] = ns },
            ["involvedObject"] = involvedObject,
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = source,
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
            ["count"] = 1,
            ["type"] = type,
            ["eventTime"] = null,
            ["reportingComponent"] = component,
            ["reportingInstance"] = host ?? "",
        };
        if (Store.Get(Namespaces, "", ns) is not null)
        {
            var created = Store.Create(Events, evt);
            if (_eventNames.Count > 100_000)
            {
                _eventNames.Clear();
            }

            _eventNames[aggregate] = created.Name;
        }
    }

    /// <summary>
    /// Writes an Event the way kube-scheduler does, through the events.k8s.io API: read back through core/v1 it has an
    /// <c>eventTime</c> (microseconds) and an <c>action</c>, a <c>reportingInstance</c> of <c>default-scheduler-HOST</c>,
    /// an empty <c>source</c>, and no count or first/last timestamps (measured on a real v1.24 server).
    /// </summary>
    public void RecordSchedulerEvent(JsonObject pod, string type, string reason, string action, string message)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var metadata = pod.Metadata();
        var ns = metadata.Str("namespace") ?? "default";
        if (!RecordEvents || Store.Get(Namespaces, "", ns) is null)
        {
            return;
        }

        var eventTime = Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        Store.Create(Events, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = $"{metadata.Str("name")}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}", ["namespace"] = ns },
            ["involvedObject"] = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["name"] = metadata.Str("name"),
                ["namespace"] = ns,
                ["resourceVersion"] = metadata.Str("resourceVersion"),
                ["uid"] = metadata.Str("uid"),
            },
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = new JsonObject(),
            ["firstTimestamp"] = null,
            ["lastTimestamp"] = null,
            ["eventTime"] = eventTime,
            ["action"] = action,
            ["reportingComponent"] = "default-scheduler",
            ["reportingInstance"] = "default-scheduler-kwarm-simulator",
            ["type"] = type,
        });
    }

    /// <summary>The controller owner reference of <paramref name="owner"/>, as controllers set it on what they create.</summary>
    public static JsonObject ControllerReference(JsonObject owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return new JsonObject
        {
            ["apiVersion"] = owner.Str("apiVersion"),
            ["kind"] = owner.Str("kind"),
            ["name"] = owner.Str("metadata", "name"),
            ["uid"] = owner.Str("metadata", "uid"),
            ["controller"] = true,
            ["blockOwnerDeletion"] = true,
        };
    }

    /// <summary>The uid of the controlling owner of <paramref name="obj"/> if it is of kind <paramref name="kind"/>.</summary>
    public static string? ControllerUid(JsonObject obj, string kind) =>
        obj.Objects("metadata", "ownerReferences").FirstOrDefault(o => o.Bool("controller") == true && o.Str("kind") == kind)?.Str("uid");

    /// <summary>A short stable hash (the pod-template-hash alphabet) of a JSON value.</summary>
    public static string ShortHash(JsonNode? node)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null"));
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var builder = new StringBuilder(10);
        for (var i = 0; i < 10; i++)
        {
            builder.Append(alphabet[bytes[i] % alphabet.Length]);
        }

        return builder.ToString();
    }

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
