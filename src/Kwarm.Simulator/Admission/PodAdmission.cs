using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Admission;

/// <summary>
/// The built-in admission plugins every new pod passes in kube-apiserver, in its order, whoever creates the pod (a
/// client through the API, or a controller): ServiceAccount (<see cref="ServiceAccountAdmission"/>, then the
/// <c>kube-api-access-*</c> projected token volume mounted into every container), Priority (priority 0 and
/// <c>preemptionPolicy: PreemptLowerPriority</c> without a priority class) and DefaultTolerationSeconds
/// (the not-ready and unreachable <c>NoExecute</c> tolerations for 300 s). Measured on a real v1.24 server.
/// </summary>
public static class PodAdmission
{
    private const string TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static void Apply(ObjectStore store, ResourceCatalog catalog, JsonObject pod)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(pod);
        ServiceAccountAdmission.Apply(store, catalog, pod);
        var spec = pod.Obj("spec");
        var account = store.Get(catalog.Get("", "serviceaccounts"), pod.Str("metadata", "namespace") ?? "", spec.Str("serviceAccountName") ?? "default");
        var automount = spec.Bool("automountServiceAccountToken") ?? account?.ToNode().Bool("automountServiceAccountToken") ?? true;
        if (automount)
        {
            AddTokenVolume(spec);
        }

        spec["priority"] ??= 0;
        spec["preemptionPolicy"] ??= "PreemptLowerPriority";
        AddDefaultTolerations(spec);
    }

    private static void AddTokenVolume(JsonObject spec)
    {
        var containers = spec.Objects("initContainers").Concat(spec.Objects("containers")).ToList();
        if (containers.Any(c => c.Objects("volumeMounts").Any(m => m.Str("mountPath") == TokenMountPath)))
        {
            return;
        }

        var name = "kube-api-access-" + RandomNumberGenerator.GetString(NameAlphabet, 5);
        spec.Arr("volumes").Add(new JsonObject
        {
            ["name"] = name,
            ["projected"] = new JsonObject
            {
                ["defaultMode"] = 420,
                ["sources"] = new JsonArray(
                    new JsonObject { ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = 3607, ["path"] = "token" } },
                    new JsonObject { ["configMap"] = new JsonObject { ["items"] = new JsonArray(new JsonObject { ["key"] = "ca.crt", ["path"] = "ca.crt" }), ["name"] = "kube-root-ca.crt" } },
                    new JsonObject
                    {
                        ["downwardAPI"] = new JsonObject
                        {
                            ["items"] = new JsonArray(new JsonObject
                            {
                                ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" },
                                ["path"] = "namespace",
                            }),
                        },
                    }),
            },
        });
        foreach (var container in containers)
        {
            container.Arr("volumeMounts").Add(new JsonObject { ["mountPath"] = TokenMountPath, ["name"] = name, ["readOnly"] = true });
        }
    }

    private static void AddDefaultTolerations(JsonObject spec)
    {
        var tolerations = spec.Objects("tolerations").ToList();
        foreach (var key in new[] { "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable" })
        {
            var tolerated = tolerations.Any(t => (t.Str("key") is null or "" || t.Str("key") == key) && (t.Str("effect") is null or "" or "NoExecute"));
            if (!tolerated)
            {
                spec.Arr("tolerations").Add(new JsonObject { ["effect"] = "NoExecute", ["key"] = key, ["operator"] = "Exists", ["tolerationSeconds"] = 300 });
            }
        }
    }
}
