using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Admission;

/// <summary>
/// The built-in ServiceAccount admission plugin for pods: the service account must exist, and when the pod names no
/// imagePullSecrets it gets the service account's (this is how a pod pulls with its service account's secrets).
/// </summary>
public static class ServiceAccountAdmission
{
    public static void Apply(ObjectStore store, ResourceCatalog catalog, JsonObject pod)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(pod);
        var spec = pod.Obj("spec");
        var accountName = spec.Str("serviceAccountName") ?? "default";
        spec["serviceAccountName"] = accountName;
        spec["serviceAccount"] = accountName;
        var ns = pod.Str("metadata", "namespace") ?? "";
        var account = store.Get(catalog.Get("", "serviceaccounts"), ns, accountName);
        if (account is null)
        {
            var name = pod.Str("metadata", "name") ?? pod.Str("metadata", "generateName") ?? "";
            throw ApiException.Forbidden($"pods \"{name}\" is forbidden: error looking up service account {ns}/{accountName}: serviceaccount \"{accountName}\" not found");
        }

        if (spec["imagePullSecrets"] is JsonArray { Count: > 0 })
        {
            return;
        }

        if (account.ToNode()["imagePullSecrets"] is JsonArray { Count: > 0 } secrets)
        {
            spec["imagePullSecrets"] = secrets.DeepClone();
        }
    }
}
