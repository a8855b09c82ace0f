using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>One requirement of a label selector, in the API's set-based vocabulary.</summary>
public sealed record LabelRequirement(string Key, string Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var present = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            "=" or "==" or "In" => present && Values.Contains(value!, StringComparer.Ordinal),
            "!=" => !present || !Values.Contains(value!, StringComparer.Ordinal),
            "NotIn" => !present || !Values.Contains(value!, StringComparer.Ordinal),
            "Exists" => present,
            "DoesNotExist" => !present,
            _ => false,
        };
    }
}

/// <summary>A parsed label selector (string syntax of <c>?labelSelector=</c> or a LabelSelector object).</summary>
public sealed class LabelSelector
{
    private readonly IReadOnlyList<LabelRequirement> _requirements;

    private LabelSelector(IReadOnlyList<LabelRequirement> requirements, bool matchesNothing = false)
    {
        _requirements = requirements;
        MatchesNothing = matchesNothing;
    }

    public static LabelSelector Everything { get; } = new([]);

    public static LabelSelector Nothing { get; } = new([], matchesNothing: true);

    public bool MatchesNothing { get; }

    public bool Matches(IReadOnlyDictionary<string, string> labels) =>
        !MatchesNothing && _requirements.All(r => r.Matches(labels));

    /// <summary>Parses <c>a=b,c!=d,e in (f,g),h notin (i),j,!k</c>; throws a 400 <see cref="ApiException"/> on bad syntax.</summary>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<LabelRequirement>();
        foreach (var term in SplitTerms(text))
        {
            var t = term.Trim();
            if (t.Length == 0)
            {
                throw ApiException.BadRequest($"unable to parse requirement: found '', expected: identifier in \"{text}\"");
            }

            if (t.StartsWith('!'))
            {
                requirements.Add(new LabelRequirement(CheckKey(t[1..].Trim(), text), "DoesNotExist", []));
                continue;
            }

            var setMatch = FindSetOperator(t);
            if (setMatch is { } set)
            {
                var key = CheckKey(t[..set.Index].Trim(), text);
                var rest = t[(set.Index + set.Length)..].Trim();
                if (!rest.StartsWith('(') || !rest.EndsWith(')'))
                {
                    throw ApiException.BadRequest($"unable to parse requirement: found '{rest}', expected: '(' in \"{text}\"");
                }

                var values = rest[1..^1].Split(',', StringSplitOptions.TrimEntries);
                requirements.Add(new LabelRequirement(key, set.Operator, values));
                continue;
            }

            var op = t.Contains("!=", StringComparison.Ordinal) ? "!=" : t.Contains("==", StringComparison.Ordinal) ? "==" : t.Contains('=', StringComparison.Ordinal) ? "=" : null;
            if (op is null)
            {
                requirements.Add(new LabelRequirement(CheckKey(t, text), "Exists", []));
                continue;
            }

            var at = t.IndexOf(op, StringComparison.Ordinal);
            requirements.Add(new LabelRequirement(CheckKey(t[..at].Trim(), text), op, [t[(at + op.Length)..].Trim()]));
        }

        return new LabelSelector(requirements);
    }

    /// <summary>Builds a selector from a LabelSelector object; a null object selects nothing, an empty one everything.</summary>
    public static LabelSelector FromObject(JsonNode? selector)
    {
        if (selector is not JsonObject obj)
        {
            return Nothing;
        }

        var requirements = new List<LabelRequirement>();
        foreach (var (key, value) in obj.StringMap("matchLabels"))
        {
            requirements.Add(new LabelRequirement(key, "=", [value]));
        }

        foreach (var expression in obj.Objects("matchExpressions"))
        {
            var values = expression["values"] is JsonArray array ? array.Select(v => v?.ToString() ?? "").ToArray() : [];
            requirements.Add(new LabelRequirement(expression.Str("key") ?? "", expression.Str("operator") ?? "", values));
        }

        return new LabelSelector(requirements);
    }

    private static string CheckKey(string key, string text)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or ',' or '=' or '!'))
        {
            throw ApiException.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in \"{text}\"");
        }

        return key;
    }

    private static (int Index, int Length, string Operator)? FindSetOperator(string term)
    {
        foreach (var (word, op) in new[] { (" notin ", "NotIn"), (" in ", "In") })
        {
            var index = term.IndexOf(word, StringComparison.Ordinal);
            if (index > 0)
            {
                return (index, word.Length, op);
            }
        }

        return null;
    }

    private static List<string> SplitTerms(string text)
    {
        var terms = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    terms.Add(text[start..i]);
                    start = i + 1;
                    break;
            }
        }

        terms.Add(text[start..]);
        return terms;
    }
}

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
