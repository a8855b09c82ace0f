using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// The ControllerRevisions of a StatefulSet or DaemonSet, as kube-controller-manager keeps them: one per pod template,
/// named <c>&lt;owner&gt;-&lt;hash&gt;</c>, owned by the workload, labelled with the template's labels and the hash,
/// holding <c>{spec: {template: {..., $patch: replace}}}</c> and a revision number; a template that comes back takes its
/// old revision object with the next number, and revisions no pod uses are pruned to <c>revisionHistoryLimit</c>.
/// </summary>
/// <remarks>
/// The hash is the simulator's own (<see cref="SimulationContext.ShortHash"/>), not client-go's fnv: names differ from a
/// cluster's, their shape does not. Hash collisions are not simulated (<c>status.collisionCount</c> stays 0).
/// </remarks>
public sealed class RevisionHistory(SimulationContext context, string hashLabel)
{
    /// <summary>One revision: its object name, the hash and its number.</summary>
    public sealed record Revision(string Name, string Hash, long Number, JsonObject Template);

    private ObjectStore Store => context.Store;

    /// <summary>The revisions <paramref name="owner"/> has, oldest number first.</summary>
    public List<Revision> List(JsonObject owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return [.. Store.DependentsOf(owner.Str("metadata", "uid") ?? "")
            .Where(d => d.Type.StorageKey == "controllerrevisions.apps" && !d.Deleting)
            .Select(d => From(d.ToNode()))
            .OrderBy(r => r.Number)];
    }

    /// <summary>The revision of <paramref name="owner"/>'s current template, created or renumbered as needed.</summary>
    public Revision Ensure(JsonObject owner, List<Revision> existing)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(existing);
        var template = owner.At("spec", "template") as JsonObject ?? [];
        var hash = SimulationContext.ShortHash(template);
        var max = existing.Select(r => r.Number).DefaultIfEmpty(0).Max();
        var ns = owner.Str("metadata", "namespace")!;
        if (existing.FirstOrDefault(r => r.Hash == hash) is { } found)
        {
            if (found.Number == max)
            {
                return found;
            }

            // A rollback to an earlier template: the revision object is reused with the next number.
            Store.Mutate(context.ControllerRevisions, ns, found.Name, r =>
            {
                r["revision"] = max + 1;
                return true;
            });
            return found with { Number = max + 1 };
        }

        var labels = new JsonObject();
        foreach (var (key, value) in template.StringMap("metadata", "labels"))
        {
            labels[key] = value;
        }

        labels[hashLabel] = hash;
        var data = template.DeepClone().AsObject();
        data["$patch"] = "replace";
        var name = $"{owner.Str("metadata", "name")}-{hash}";
        var revision = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ControllerRevision",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(SimulationContext.ControllerReference(owner)),
            },
            ["data"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = data } },
            ["revision"] = max + 1,
        };
        try
        {
            Store.Create(context.ControllerRevisions, revision);
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // Created by an earlier sync whose store event has not reached the owner index yet: the same content.
        }

        return new Revision(name, hash, max + 1, template);
    }

    /// <summary>Deletes the oldest revisions beyond the owner's history limit that are neither live nor used by a pod.</summary>
    public void Prune(JsonObject owner, List<Revision> revisions, IReadOnlySet<string> inUse)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(revisions);
        ArgumentNullException.ThrowIfNull(inUse);
        var limit = (int)(owner.Long("spec", "revisionHistoryLimit") ?? 10);
        var idle = revisions.Where(r => !inUse.Contains(r.Name)).OrderBy(r => r.Number).ToList();
        foreach (var revision in idle.Take(Math.Max(0, idle.Count - limit)))
        {
            try
            {
                Store.Delete(context.ControllerRevisions, owner.Str("metadata", "namespace")!, revision.Name);
            }
            catch (ApiException e) when (e.Code is 404 or 409)
            {
                // Already gone.
            }
        }
    }

    private Revision From(JsonObject revision)
    {
        var template = (revision.At("data", "spec", "template") as JsonObject ?? []).DeepClone().AsObject();
        template.Remove("$patch");
        return new Revision(
            revision.Str("metadata", "name") ?? "",
            revision.Str("metadata", "labels", hashLabel) ?? "",
            revision.Long("revision") ?? 0,
            template);
    }
}
