using System.Globalization;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Admission;
using Microsoft.AspNetCore.Http;

namespace Kwarm.Simulator.Api;

public sealed partial class ApiServer
{
    private const int PatchAttempts = 8;

    private static readonly ResourceType NamespaceType = ResourceCatalog.BuiltIns[0];

    /// <summary>
    /// A create that a simulated component makes in-process where on a real cluster it would POST as
    /// <paramref name="user"/> (the kubelet registering its Node): the same path as a create over HTTP, so defaults,
    /// the built-in admission plugins, the registered mutating webhooks (with their failurePolicy) and validation all
    /// apply, and a refusal throws the <see cref="ApiException"/> the client would have got. Not counted in
    /// <see cref="Audit"/> or <see cref="RequestCount"/>, like the in-process components' other writes.
    /// </summary>
    internal async Task<JsonObject> CreateInProcessAsync(ResourceType type, string ns, JsonObject body, UserInfo user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        var request = new RequestScope(type, type.Version, type.Namespaced ? ns : "", null, null, QueryCollection.Empty, user, cancellationToken);
        var (_, created) = await CreateAsync(request, body).ConfigureAwait(false);
        return created;
    }

    internal async Task<(int Code, JsonObject Object)> CreateAsync(RequestScope request, JsonObject body)
    {
        var type = request.Type;
        var metadata = body.Metadata();
        if (type.Namespaced)
        {
            var bodyNamespace = metadata.Str("namespace");
            if (!string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != request.Namespace)
            {
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            metadata["namespace"] = request.Namespace;
            if (_store.Get(NamespaceType, "", request.Namespace) is null)
            {
                throw ApiException.NotFound(NamespaceType, request.Namespace);
            }
        }

        if (!string.IsNullOrEmpty(metadata.Str("resourceVersion")))
        {
            throw ApiException.BadRequest("resourceVersion should not be set on objects to be created");
        }

        CheckKind(type, body);
        metadata.Remove("uid");
        metadata.Remove("deletionTimestamp");
        if (type.StorageKey == "jobs.batch")
        {
            metadata["uid"] = Guid.NewGuid().ToString();
            JobSelector(body);
        }

        Prepare(type, body, request);
        if (type.StorageKey == "pods")
        {
            PodAdmission.Apply(_store, _catalog, body);
        }

        if (type.StorageKey == "nodes")
        {
            NodeTaintAdmission.Apply(body);
        }

        var admitted = await _admission.AdmitAsync(
            new AdmissionAttributes(type, null, "CREATE", request.Namespace, metadata.Str("name") ?? "", body, null, request.DryRun, request.Options("CreateOptions"), request.User) { Warn = request.Warn },
            request.Cancellation).ConfigureAwait(false);
        Prepare(type, admitted, request);
        WorkloadRules.Prepare(type, admitted, null);
        Validate(type, admitted, null);
        if (request.DryRun)
        {
            var preview = (JsonObject)admitted.DeepClone();
            preview.Metadata()["name"] ??= preview.Metadata().Str("generateName") + "dryrun";
            preview.Metadata()["uid"] = Guid.NewGuid().ToString();
            preview.Metadata()["creationTimestamp"] = JsonPaths.Timestamp(_time.GetUtcNow());
            return (201, JsonPaths.Canonical(preview));
        }

        var stored = _store.Create(type, admitted);
        AfterWrite(type, stored);
        return (201, Present(stored, request.Version));
    }

    internal async Task<JsonObject> UpdateAsync(RequestScope request, JsonObject body)
    {
        var type = request.Type;
        var name = request.Name!;
        var bodyName = body.Metadata().Str("name");
        if (request.SubResource != "scale" && bodyName is not null && bodyName != name)
        {
            throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        if (request.SubResource != "scale")
        {
            CheckKind(type, body);
            CheckNamespace(request, body);
        }

        var current = _store.Get(type, request.Namespace, name) ?? throw ApiException.NotFound(type, name);
        var expected = body.Metadata().Str("resourceVersion");
        if (!string.IsNullOrEmpty(expected) && expected != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw ApiException.Conflict(type, name);
        }

        return await CommitUpdateAsync(request, current, body, !string.IsNullOrEmpty(expected)).ConfigureAwait(false);
    }

    internal async Task<(int Code, JsonObject Object)> PatchAsync(RequestScope request, string contentType, byte[] body)
    {
        var type = request.Type;
        var name = request.Name!;
        var mediaType = contentType.Split(';')[0].Trim();
        var patch = mediaType == "application/apply-patch+yaml" ? ApplyBody(body) : StrategicMergePatch.ParseBody(body);
        for (var attempt = 1; ; attempt++)
        {
            var current = _store.Get(type, request.Namespace, name);
            if (current is null)
            {
                if (mediaType == "application/apply-patch+yaml" && request.SubResource is null && patch is JsonObject applied)
                {
                    applied.Metadata()["name"] = name;
                    return await CreateAsync(request, applied).ConfigureAwait(false);
                }

                throw ApiException.NotFound(type, name);
            }

            var view = Present(current, request.Version);
            var target = request.SubResource == "scale" ? ScaleOf(view) : view;
            JsonNode patched = mediaType switch
            {
                "application/json-patch+json" => JsonPatch.Apply(target, patch),
                "application/merge-patch+json" => MergePatch.Apply(target, patch) ?? new JsonObject(),
                "application/strategic-merge-patch+json" when type.StrategicMerge => StrategicMergePatch.Apply(target, patch),
                "application/apply-patch+yaml" => type.StrategicMerge ? StrategicMergePatch.Apply(target, patch) : MergePatch.Apply(target, patch) ?? new JsonObject(),
                _ => throw ApiException.UnsupportedMediaType(mediaType),
            };
            if (patched is not JsonObject result)
            {
                throw ApiException.PatchRejected();
            }

            if (request.SubResource != "scale")
            {
                if (result.Metadata().Str("name") != name)
                {
                    throw ApiException.Invalid(type, name, ("metadata.name", $"Invalid value: \"{result.Metadata().Str("name")}\": field is immutable"));
                }

                CheckNamespace(request, result);
            }

            var requested = result.Metadata().Str("resourceVersion");
            var precondition = patch is JsonObject p && p.At("metadata", "resourceVersion") is not null;
            if (precondition && requested != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiException.Conflict(type, name);
            }

            result.Metadata()["resourceVersion"] = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            try
            {
                return (200, await CommitUpdateAsync(request, current, result, precondition).ConfigureAwait(false));
            }
            catch (ApiException e) when (e.Reason == "Conflict" && !precondition && attempt < PatchAttempts)
            {
                // The API server retries a patch without a resourceVersion precondition on its own.
            }
        }
    }

    private async Task<JsonObject> CommitUpdateAsync(RequestScope request, StoredObject current, JsonObject incoming, bool clientPrecondition)
    {
        var type = request.Type;
        var old = current.ToNode();
        JsonObject proposed;
        JsonObject admissionOld = old;
        JsonObject admissionNew;
        switch (request.SubResource)
        {
            case "status":
                proposed = (JsonObject)old.DeepClone();
                proposed["status"] = incoming["status"]?.DeepClone();
                Prepare(type, proposed, request);
                admissionNew = proposed;
                break;
            case "scale":
                admissionOld = ScaleOf(old);
                admissionNew = incoming;
                admissionNew["kind"] = "Scale";
                admissionNew["apiVersion"] = "autoscaling/v1";
                proposed = old;
                break;
            default:
                proposed = incoming;
                if (type.HasStatus)
                {
                    proposed["status"] = old["status"]?.DeepClone();
                    if (proposed["status"] is null)
                    {
                        proposed.Remove("status");
                    }
                }

                Prepare(type, proposed, request);
                admissionNew = proposed;
                break;
        }

        var admitted = await _admission.AdmitAsync(
            new AdmissionAttributes(type, request.SubResource, "UPDATE", request.Namespace, request.Name!, admissionNew, admissionOld, request.DryRun, request.Options("UpdateOptions"), request.User) { Warn = request.Warn },
            request.Cancellation).ConfigureAwait(false);
        if (request.SubResource == "scale")
        {
            var replicas = admitted.Long("spec", "replicas") ?? throw ApiException.Invalid(type, request.Name!, ("spec.replicas", "Required value"));
            if (replicas < 0)
            {
                throw ApiException.Invalid(type, request.Name!, ("spec.replicas", $"Invalid value: {replicas}: must be greater than or equal to 0"));
            }

            proposed = (JsonObject)old.DeepClone();
            proposed.Obj("spec")["replicas"] = replicas;
        }
        else
        {
            proposed = admitted;
            if (request.SubResource is null)
            {
                Prepare(type, proposed, request);
                WorkloadRules.Prepare(type, proposed, old);
            }
        }

        Validate(type, proposed, old);
        proposed.Metadata()["resourceVersion"] = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        if (request.DryRun)
        {
            return request.SubResource == "scale" ? ScaleOf(proposed) : proposed;
        }

        var stored = _store.Update(type, proposed, request.SubResource is null && DeploymentAnnotationsChanged(type, old, proposed));
        AfterWrite(type, stored);
        var node = Present(stored, request.Version);
        return request.SubResource == "scale" ? ScaleOf(node) : node;
    }

    internal (int Code, JsonObject Object) Delete(RequestScope request, byte[] body)
    {
        var options = body.Length > 0 ? ParseObject(body) : [];
        var propagation = request.Query("propagationPolicy") ?? options.Str("propagationPolicy");
        if (options.Bool("orphanDependents") == true || request.Query("orphanDependents") == "true")
        {
            propagation ??= "Orphan";
        }

        // batch/v1 Jobs still default to orphaning their pods when no policy is given, as on a real server.
        propagation ??= request.Type.StorageKey == "jobs.batch" ? "Orphan" : "Background";
        if (propagation is not ("Foreground" or "Background" or "Orphan"))
        {
            throw ApiException.BadRequest($"propagationPolicy: Unsupported value: \"{propagation}\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
        }

        var name = request.Name!;
        if (request.DryRun || options["dryRun"] is JsonArray { Count: > 0 })
        {
            var existing = _store.Get(request.Type, request.Namespace, name) ?? throw ApiException.NotFound(request.Type, name);
            return (200, Present(existing, request.Version));
        }

        var grace = options.Long("gracePeriodSeconds") ?? (long.TryParse(request.Query("gracePeriodSeconds"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var queried) ? queried : null);
        var result = _store.Delete(request.Type, request.Namespace, name, propagation, options.Str("preconditions", "uid"), options.Str("preconditions", "resourceVersion"), grace);
        AfterDelete(request.Type, result);
        // kube-apiserver answers 200 even when finalizers or a grace period keep the object; 202 only when the
        // client asked for cascading deletion the old way (orphanDependents=false) and the object is still there.
        var stillThere = _store.Get(request.Type, request.Namespace, name) is not null;
        var cascading = options.Bool("orphanDependents") == false || request.Query("orphanDependents") == "false";
        return (stillThere && cascading ? 202 : 200, Present(result, request.Version));
    }

    private JsonObject DeleteCollection(RequestScope request, byte[] body)
    {
        var labels = LabelSelector.Parse(request.Query("labelSelector"));
        var fields = FieldSelector.Parse(request.Query("fieldSelector"), request.Type);
        var (items, version) = _store.List(request.Type, request.Namespace, o => labels.Matches(o.Labels) && fields.Matches(o));
        var deleted = new JsonArray();
        foreach (var item in items)
        {
            try
            {
                var (_, obj) = Delete(request with { Namespace = item.Namespace, Name = item.Name }, body);
                deleted.Add(obj);
            }
            catch (ApiException e) when (e.Code == 404)
            {
                // Already gone: a collection delete is not disturbed by concurrent deletes.
            }
        }

        return new JsonObject
        {
            ["kind"] = request.Type.ListKind,
            ["apiVersion"] = request.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) },
            ["items"] = deleted,
        };
    }

    /// <summary>An apply patch is YAML, of which JSON is the common case.</summary>
    private static JsonNode? ApplyBody(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            try
            {
                return YamlJson.Parse(System.Text.Encoding.UTF8.GetString(body));
            }
            catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidCastException)
            {
                throw ApiException.BadRequest($"error decoding YAML: {e.Message}");
            }
        }
    }

    /// <summary>A write names its object's namespace through the URL; a body that says otherwise is refused.</summary>
    private static void CheckNamespace(RequestScope request, JsonObject body)
    {
        var metadata = body.Metadata();
        if (!request.Type.Namespaced)
        {
            metadata.Remove("namespace");
            return;
        }

        var bodyNamespace = metadata.Str("namespace");
        if (!string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != request.Namespace)
        {
            throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        metadata["namespace"] = request.Namespace;
    }

    private static void CheckKind(ResourceType type, JsonObject body)
    {
        var kind = body.Str("kind");
        if (kind is not null && kind != type.Kind)
        {
            throw ApiException.BadRequest($"the API version in the data ({body.Str("apiVersion")}) does not match the expected API version ({type.ApiVersion})");
        }

        body["kind"] = type.Kind;
        body["apiVersion"] ??= type.ApiVersion;
    }

    /// <summary>Defaults, CRD schema defaults and pruning (strict field validation rejects unknown fields).</summary>
    private static void Prepare(ResourceType type, JsonObject obj, RequestScope request)
    {
        BuiltInDefaults.Apply(type, obj);
        if (type.Schema is null)
        {
            return;
        }

        var pruned = SchemaValidation.DefaultAndPrune(type.Schema, obj);
        if (pruned.Count > 0 && request.Query("fieldValidation") == "Strict")
        {
            var fields = string.Join(", ", pruned.Select(p => $"unknown field \"{p}\""));
            throw ApiException.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: strict decoding error: {fields}");
        }
    }

    private static void Validate(ResourceType type, JsonObject obj, JsonObject? old)
    {
        var name = obj.Metadata().Str("name") ?? "";
        if (WorkloadRules.Problems(type, obj, old) is { Count: > 0 } workloadCauses)
        {
            throw ApiException.Invalid(type, name, [.. workloadCauses]);
        }

        if (type.Schema is not null)
        {
            var causes = SchemaValidation.Validate(type.Schema, obj);
            if (causes.Count > 0)
            {
                throw ApiException.Invalid(type, name, [.. causes]);
            }
        }

        if (type.StorageKey is "deployments.apps" or "replicasets.apps")
        {
            var selector = obj.At("spec", "selector");
            if (selector is null)
            {
                throw ApiException.Invalid(type, name, ("spec.selector", "Required value"));
            }

            var labels = obj.StringMap("spec", "template", "metadata", "labels");
            if (!LabelSelector.FromObject(selector).Matches(labels))
            {
                throw ApiException.Invalid(type, name, ("spec.template.metadata.labels", $"Invalid value: {{{string.Join(",", labels.Select(l => $"\"{l.Key}\":\"{l.Value}\""))}}}: `selector` does not match template `labels`"));
            }

            if (obj.Long("spec", "replicas") is < 0)
            {
                throw ApiException.Invalid(type, name, ("spec.replicas", $"Invalid value: {obj.Long("spec", "replicas")}: must be greater than or equal to 0"));
            }
        }

        if (type.StorageKey == "mutatingwebhookconfigurations.admissionregistration.k8s.io")
        {
            var causes = WebhookConfigurationProblems(obj);
            if (causes.Count > 0)
            {
                throw ApiException.Invalid(type, name, [.. causes]);
            }
        }

        if (type.StorageKey is "deployments.apps" or "replicasets.apps" or "jobs.batch" or "pods")
        {
            var spec = type.Plural == "pods" ? obj.At("spec") : obj.At("spec", "template", "spec");
            if (spec.Objects("containers").FirstOrDefault() is null)
            {
                var field = type.Plural == "pods" ? "spec.containers" : "spec.template.spec.containers";
                throw ApiException.Invalid(type, name, (field, "Required value"));
            }
        }
    }

    /// <summary>The validation kube-apiserver runs on a MutatingWebhookConfiguration, with its messages.</summary>
    private static List<(string Field, string Message)> WebhookConfigurationProblems(JsonObject configuration)
    {
        var causes = new List<(string, string)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var webhook in configuration.Objects("webhooks"))
        {
            var at = $"webhooks[{index++}]";
            var name = webhook.Str("name") ?? "";
            if (name.Length == 0)
            {
                causes.Add(($"{at}.name", "Required value"));
            }
            else if (name.Split('.').Length < 3)
            {
                causes.Add(($"{at}.name", $"Invalid value: \"{name}\": should be a domain with at least three segments separated by dots"));
            }
            else if (!names.Add(name))
            {
                causes.Add(($"{at}.name", $"Duplicate value: \"{name}\""));
            }

            var hasUrl = webhook.Str("clientConfig", "url") is not null;
            var hasService = webhook.At("clientConfig", "service") is JsonObject;
            if (hasUrl == hasService)
            {
                causes.Add(($"{at}.clientConfig", "Required value: exactly one of url or service is required"));
            }

            if (webhook.Str("sideEffects") is not ("None" or "NoneOnDryRun"))
            {
                causes.Add(webhook.Str("sideEffects") is { } sideEffects
                    ? ($"{at}.sideEffects", $"Unsupported value: \"{sideEffects}\": supported values: \"None\", \"NoneOnDryRun\"")
                    : ($"{at}.sideEffects", "Required value: must specify one of None, NoneOnDryRun"));
            }

            var versions = webhook["admissionReviewVersions"] as JsonArray;
            if (versions is null || versions.Count == 0)
            {
                causes.Add(($"{at}.admissionReviewVersions", "Required value: must specify one of v1, v1beta1"));
            }
            else if (!versions.Any(v => v?.ToString() is "v1" or "v1beta1"))
            {
                causes.Add(($"{at}.admissionReviewVersions", $"Invalid value: {versions.ToJsonString()}: must include at least one of v1, v1beta1"));
            }

            if (webhook.Str("failurePolicy") is { } policy and not ("Ignore" or "Fail"))
            {
                causes.Add(($"{at}.failurePolicy", $"Unsupported value: \"{policy}\": supported values: \"Fail\", \"Ignore\""));
            }

            if (webhook.Str("reinvocationPolicy") is { } reinvocation and not ("Never" or "IfNeeded"))
            {
                causes.Add(($"{at}.reinvocationPolicy", $"Unsupported value: \"{reinvocation}\": supported values: \"IfNeeded\", \"Never\""));
            }

            if (webhook.Long("timeoutSeconds") is { } timeout and (< 1 or > 30))
            {
                causes.Add(($"{at}.timeoutSeconds", $"Invalid value: {timeout}: the timeout value must be between 1 and 30 seconds"));
            }
        }

        return causes;
    }

    private static void JobSelector(JsonObject job)
    {
        var uid = job.Metadata().Str("uid")!;
        var name = job.Metadata().Str("name") ?? "";
        var spec = job.Obj("spec");
        if (spec.Bool("manualSelector") == true)
        {
            return;
        }

        spec["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
        var labels = spec.Obj("template").Obj("metadata").Obj("labels");
        labels["batch.kubernetes.io/controller-uid"] = uid;
        labels["batch.kubernetes.io/job-name"] = name;
        labels["controller-uid"] = uid;
        labels["job-name"] = name;

        // The batch API's defaulting: a Job without labels takes its pod template's (measured on a real v1.24 server).
        if (job.Metadata()["labels"] is not JsonObject { Count: > 0 })
        {
            job.Metadata()["labels"] = labels.DeepClone();
        }
    }

    /// <summary>
    /// The apps API's Deployment strategy bumps <c>metadata.generation</c> when the annotations change too, not only
    /// the spec, because the deployment controller copies them to the ReplicaSets (measured on a real v1.24 server:
    /// <c>kubectl annotate deployment</c> takes generation 1 to 2). Only a write of the Deployment itself does: the
    /// controller's own <c>deployment.kubernetes.io/revision</c> goes through <c>status</c> and leaves it.
    /// </summary>
    private static bool DeploymentAnnotationsChanged(ResourceType type, JsonObject old, JsonObject proposed) =>
        type.StorageKey == "deployments.apps"
        && !JsonNode.DeepEquals(old.At("metadata", "annotations") is JsonObject { Count: > 0 } a ? a : null, proposed.At("metadata", "annotations") is JsonObject { Count: > 0 } b ? b : null);

    /// <summary>Side effects of committed writes that the real API server performs itself (CRD registration).</summary>
    private void AfterWrite(ResourceType type, StoredObject stored)
    {
        if (type.StorageKey != "customresourcedefinitions.apiextensions.k8s.io" || stored.Deleting)
        {
            return;
        }

        var crd = stored.ToNode();
        var resource = CustomResources.FromDefinition(crd);
        if (resource is null)
        {
            return;
        }

        var previous = _catalog.FindByStorageKey(resource.StorageKey);
        if (previous is not null)
        {
            _catalog.Remove(previous);
        }

        _catalog.Add(resource);
        _store.Mutate(type, "", stored.Name, obj =>
        {
            var status = obj.Obj("status");
            if (status["conditions"] is JsonArray { Count: > 0 })
            {
                return false;
            }

            var now = JsonPaths.Timestamp(_time.GetUtcNow());
            status["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "NamesAccepted", ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "NoConflicts", ["message"] = "no conflicts found" },
                new JsonObject { ["type"] = "Established", ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "InitialNamesAccepted", ["message"] = "the initial names have been accepted" });
            status["acceptedNames"] = obj.At("spec", "names")?.DeepClone();
            status["storedVersions"] = new JsonArray([.. resource.Versions.Take(1).Select(v => (JsonNode?)v)]);
            return true;
        });
    }

    private void AfterDelete(ResourceType type, StoredObject deleted)
    {
        if (type.StorageKey == "customresourcedefinitions.apiextensions.k8s.io" && _store.Get(type, "", deleted.Name) is null
            && CustomResources.FromDefinition(deleted.ToNode()) is { } resource)
        {
            foreach (var item in _store.List(resource, null).Items)
            {
                _store.Delete(resource, item.Namespace, item.Name);
            }

            _catalog.Remove(resource);
        }
    }
}
