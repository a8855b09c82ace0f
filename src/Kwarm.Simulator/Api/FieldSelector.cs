using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>A field selector over the fields the simulator indexes (name, namespace, spec.nodeName, status.phase).</summary>
public sealed class FieldSelector
{
    // The fields kube-apiserver indexes for core/v1 events (kubectl describe selects on involvedObject.*).
    private static readonly HashSet<string> EventFields = new(StringComparer.Ordinal)
    {
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
        "reason", "reportingComponent", "source", "type",
    };

    private readonly IReadOnlyList<(string Field, bool Equal, string Value)> _terms;

    private FieldSelector(IReadOnlyList<(string Field, bool Equal, string Value)> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    public static FieldSelector Parse(string? text, ResourceType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<(string, bool, string)>();
        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            var notEqual = term.Contains("!=", StringComparison.Ordinal);
            var op = notEqual ? "!=" : term.Contains("==", StringComparison.Ordinal) ? "==" : "=";
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0)
            {
                throw ApiException.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
            }

            var field = term[..at].Trim();
            var supported = field is "metadata.name" or "metadata.namespace"
                || (type.Plural == "pods" && field is "spec.nodeName" or "status.phase")
                || (type.Plural == "events" && EventFields.Contains(field))
                || (type.Plural == "secrets" && field == "type");
            if (!supported)
            {
                throw ApiException.BadRequest($"\"{field}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
            }

            terms.Add((field, !notEqual, term[(at + op.Length)..].Trim()));
        }

        return new FieldSelector(terms);
    }

    public bool Matches(StoredObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        JsonObject? parsed = null;
        foreach (var (field, equal, value) in _terms)
        {
            var actual = obj.Field(field);
            if (actual is null)
            {
                // Not an indexed field: read it from the object (events and secrets only, which are not hot paths).
                parsed ??= obj.ToNode();
                actual = field == "source" ? parsed.Str("source", "component") : parsed.Str(field.Split('.'));
            }

            actual ??= "";
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }
}
