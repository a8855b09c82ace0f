using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// Owner-reference garbage collection (background, foreground, orphan), namespace content deletion, and the
/// default ServiceAccount of new namespaces: the parts of kube-controller-manager that deletion depends on.
/// </summary>
public sealed class GarbageCollector : Controller
{
    public GarbageCollector(SimulationContext context)
        : base(context)
    {
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey == "namespaces")
        {
            if (change.Type == WatchEventType.Deleted || obj.Deleting)
            {
                Enqueue("ns:" + obj.Name);
            }
            else if (change.Type == WatchEventType.Added)
            {
                Enqueue("sa:" + obj.Name);
            }
        }

        if (change.Type == WatchEventType.Deleted)
        {
            Enqueue("orphans:" + obj.Uid);
            foreach (var owner in obj.Owners)
            {
                Enqueue("owner:" + owner);
            }
        }
        else if (obj.Deleting && obj.Finalizers.Any(f => f is "foregroundDeletion" or "orphan"))
        {
            Enqueue("owner:" + obj.Uid);
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        var (kind, argument) = (key[..colon], key[(colon + 1)..]);
        switch (kind)
        {
            case "orphans":
                CollectDependents(argument);
                break;
            case "owner":
                FinishOwnerDeletion(argument);
                break;
            case "ns":
                EmptyNamespace(argument);
                break;
            case "sa":
                DefaultServiceAccount(argument);
                break;
        }

        return Task.CompletedTask;
    }

    private void CollectDependents(string ownerUid)
    {
        foreach (var dependent in Store.DependentsOf(ownerUid))
        {
            var liveOwners = dependent.Owners.Where(o => o != ownerUid && Store.GetByUid(o) is not null).ToList();
            if (liveOwners.Count == 0)
            {
                TryDelete(dependent, "Background");
            }
            else
            {
                RemoveOwnerReference(dependent, ownerUid);
            }
        }
    }

    private void FinishOwnerDeletion(string ownerUid)
    {
        var owner = Store.GetByUid(ownerUid);
        if (owner is null || !owner.Deleting)
        {
            return;
        }

        var dependents = Store.DependentsOf(ownerUid);
        if (owner.Finalizers.Contains("orphan"))
        {
            foreach (var dependent in dependents)
            {
                RemoveOwnerReference(dependent, ownerUid);
            }

            RemoveFinalizer(owner, "orphan");
            return;
        }

        if (owner.Finalizers.Contains("foregroundDeletion"))
        {
            if (dependents.Count == 0)
            {
                RemoveFinalizer(owner, "foregroundDeletion");
                return;
            }

            foreach (var dependent in dependents.Where(d => !d.Deleting))
            {
                TryDelete(dependent, "Foreground");
            }
        }
    }

    private void EmptyNamespace(string ns)
    {
        foreach (var type in Context.Catalog.All.Where(t => t.Namespaced))
        {
            foreach (var item in Store.List(type, ns).Items)
            {
                TryDelete(item, "Background");
            }
        }
    }

    private void DefaultServiceAccount(string ns)
    {
        if (Store.Get(Context.Namespaces, "", ns) is null || Store.Get(Context.ServiceAccounts, ns, "default") is not null)
        {
            return;
        }

        try
        {
            Store.Create(Context.ServiceAccounts, new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ServiceAccount",
                ["metadata"] = new JsonObject { ["name"] = "default", ["namespace"] = ns },
            });
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // Created meanwhile by someone else: fine.
        }
    }

    private void TryDelete(StoredObject obj, string propagation)
    {
        try
        {
            Store.Delete(obj.Type, obj.Namespace, obj.Name, propagation, expectedUid: obj.Uid);
        }
        catch (ApiException e) when (e.Code is 404 or 409)
        {
            // Already gone, or replaced by a new object of the same name that this owner does not own.
        }
    }

    private void RemoveOwnerReference(StoredObject dependent, string ownerUid) =>
        Store.Mutate(dependent.Type, dependent.Namespace, dependent.Name, obj =>
        {
            if (obj.At("metadata", "ownerReferences") is not JsonArray references)
            {
                return false;
            }

            var kept = references.OfType<JsonObject>().Where(r => r.Str("uid") != ownerUid).Select(r => (JsonNode)r.DeepClone()).ToArray();
            if (kept.Length == references.Count)
            {
                return false;
            }

            if (kept.Length == 0)
            {
                obj.Metadata().Remove("ownerReferences");
            }
            else
            {
                obj.Metadata()["ownerReferences"] = new JsonArray(kept);
            }

            return true;
        });

    private void RemoveFinalizer(StoredObject owner, string finalizer) =>
        Store.Mutate(owner.Type, owner.Namespace, owner.Name, obj =>
        {
            if (obj.At("metadata", "finalizers") is not JsonArray finalizers)
            {
                return false;
            }

            var kept = finalizers.Where(f => f?.ToString() != finalizer).Select(f => f?.DeepClone()).ToArray();
            obj.Metadata()["finalizers"] = new JsonArray(kept);
            return kept.Length != finalizers.Count;
        });
}
