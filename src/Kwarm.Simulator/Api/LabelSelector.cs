using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

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
