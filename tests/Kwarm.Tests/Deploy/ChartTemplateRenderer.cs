using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// Renders the Kwarm chart's templates without Helm (none exists on the build machines). It implements exactly the
/// subset of Go templates the chart uses — value paths, <c>if</c>/<c>else</c>, <c>define</c>/<c>include</c>, trim
/// markers, comments and the functions <c>quote</c>, <c>default</c>, <c>toYaml</c>, <c>nindent</c>, <c>indent</c>,
/// <c>regexFind</c>, <c>not</c> and <c>.Files.Get</c> — and throws on anything else, so a template that strays from
/// the subset fails the tests instead of rendering wrongly. A missing value path also throws (Helm would print
/// <c>&lt;no value&gt;</c>), which catches misspelt values.
/// </summary>
internal sealed partial class ChartTemplateRenderer
{
    private readonly string _chartDirectory;
    private readonly JsonObject _root;
    private readonly Dictionary<string, List<TemplateNode>> _definitions = new(StringComparer.Ordinal);

    public ChartTemplateRenderer(string chartDirectory, JsonObject values, string releaseName, string releaseNamespace)
    {
        _chartDirectory = chartDirectory;
        var chart = Resources.YamlJson.ReadFile(Path.Combine(chartDirectory, "Chart.yaml")).AsObject();
        _root = new JsonObject
        {
            ["Values"] = values,
            ["Release"] = new JsonObject { ["Name"] = releaseName, ["Namespace"] = releaseNamespace, ["Service"] = "Helm" },
            ["Chart"] = new JsonObject
            {
                ["Name"] = chart["name"]!.GetValue<string>(),
                ["Version"] = chart["version"]!.GetValue<string>(),
                ["AppVersion"] = chart["appVersion"]!.GetValue<string>(),
            },
        };

        foreach (var helper in Directory.GetFiles(Path.Combine(chartDirectory, "templates"), "_*.tpl"))
        {
            // Rendering a helpers file registers its definitions; its own output is discarded, as in Helm.
            Render(Parse(File.ReadAllText(helper)));
        }
    }

    /// <summary>The chart's values.yaml with <paramref name="overrides"/> merged in (maps merge, everything else replaces).</summary>
    public static JsonObject Values(string chartDirectory, JsonObject? overrides = null)
    {
        var values = Resources.YamlJson.ReadFile(Path.Combine(chartDirectory, "values.yaml")).AsObject();
        if (overrides is not null)
        {
            Merge(values, overrides);
        }

        return values;
    }

    /// <summary>Every manifest template (not helpers, not NOTES.txt), rendered, by file name.</summary>
    public IReadOnlyDictionary<string, string> RenderAll() =>
        Directory.GetFiles(Path.Combine(_chartDirectory, "templates"), "*.yaml")
            .Order(StringComparer.Ordinal)
            .ToDictionary(path => Path.GetFileName(path), RenderFile, StringComparer.Ordinal);

    public string RenderFile(string path) => Render(Parse(File.ReadAllText(path)));

    private string Render(List<TemplateNode> nodes)
    {
        var output = new StringBuilder();
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case ActionNode action:
                    output.Append(Show(Evaluate(action.Pipeline)));
                    break;
                case IfNode conditional:
                    output.Append(Render(IsTrue(Evaluate(conditional.Condition)) ? conditional.Then : conditional.Else));
                    break;
                case DefineNode definition:
                    _definitions[definition.Name] = definition.Body;
                    break;
            }
        }

        return output.ToString();
    }

    private object? Evaluate(string pipeline)
    {
        object? value = null;
        var first = true;
        foreach (var command in SplitOutsideQuotes(pipeline, '|'))
        {
            var words = Words(command);
            if (words.Count == 0)
            {
                throw new NotSupportedException($"empty command in \"{pipeline}\"");
            }

            var arguments = words.Skip(1).Select(Term).ToList();
            if (!first)
            {
                arguments.Add(value);
            }

            value = IsFunction(words[0]) ? Call(words[0], arguments)
                : arguments.Count == 0 ? Term(words[0])
                : throw new NotSupportedException($"\"{words[0]}\" takes no arguments in \"{pipeline}\"");
            first = false;
        }

        return value;
    }

    private static bool IsFunction(string word) => word.Length > 0 && char.IsLetter(word[0]);

    private object? Call(string function, List<object?> arguments)
    {
        return (function, arguments.Count) switch
        {
            ("include", 2) => Render(_definitions.TryGetValue(Text(arguments[0]), out var body) ? body
                : throw new InvalidOperationException($"no template named \"{arguments[0]}\"")),
            ("quote", 1) => "\"" + Text(arguments[0]).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
            ("default", 2) => IsTrue(arguments[1]) ? arguments[1] : arguments[0],
            ("not", 1) => !IsTrue(arguments[0]),
            ("toYaml", 1) => arguments[0] is JsonNode node ? BlockYaml(node, 0) : Show(arguments[0]),
            ("nindent", 2) => "\n" + Indent(Count(arguments[0]), Text(arguments[1])),
            ("indent", 2) => Indent(Count(arguments[0]), Text(arguments[1])),
            ("regexFind", 2) => Regex.Match(Text(arguments[1]), Text(arguments[0]), RegexOptions.CultureInvariant).Value,
            ("Files.Get", 1) => File.ReadAllText(Path.Combine(_chartDirectory, Text(arguments[0]))),
            _ => throw new NotSupportedException($"function {function} with {arguments.Count} arguments is outside the renderer's subset"),
        };
    }

    private object? Term(string word)
    {
        if (word.StartsWith('"'))
        {
            return word[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }

        if (int.TryParse(word, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        if (word == ".")
        {
            return _root;
        }

        if (!word.StartsWith('.'))
        {
            throw new NotSupportedException($"term \"{word}\" is outside the renderer's subset");
        }

        JsonNode? current = _root;
        foreach (var key in word[1..].Split('.'))
        {
            if (current is not JsonObject map || !map.TryGetPropertyValue(key, out current))
            {
                throw new KeyNotFoundException($"{word}: no value at \"{key}\"");
            }
        }

        return current;
    }

    /// <summary>
    /// Block-style YAML, as Helm's toYaml writes it (so it can be merged into a mapping the template already opened);
    /// every scalar is written as JSON, which YAML reads back unchanged.
    /// </summary>
    private static string BlockYaml(JsonNode node, int indent)
    {
        var pad = new string(' ', indent);
        return node switch
        {
            JsonObject { Count: 0 } => "{}",
            JsonArray { Count: 0 } => "[]",
            JsonObject map => string.Join('\n', map.Select(pair => pad + System.Text.Json.JsonSerializer.Serialize(pair.Key) + ":" + Nested(pair.Value, indent))),
            JsonArray list => string.Join('\n', list.Select(item => pad + "-" + Nested(item, indent))),
            _ => node.ToJsonString(),
        };
    }

    private static string Nested(JsonNode? value, int indent) => value switch
    {
        JsonObject { Count: > 0 } or JsonArray { Count: > 0 } => "\n" + BlockYaml(value, indent + 2),
        null => " null",
        _ => " " + BlockYaml(value, 0),
    };

    private static bool IsTrue(object? value) => value switch
    {
        null => false,
        bool flag => flag,
        string text => text.Length > 0,
        int number => number != 0,
        JsonObject map => map.Count > 0,
        JsonArray list => list.Count > 0,
        JsonValue scalar => IsTrue(Unwrap(scalar)),
        _ => true,
    };

    private static object? Unwrap(JsonValue scalar) =>
        scalar.TryGetValue<bool>(out var flag) ? flag
        : scalar.TryGetValue<string>(out var text) ? text
        : scalar.TryGetValue<decimal>(out var number) ? (number == 0 ? 0 : 1)
        : scalar.ToJsonString();

    private static string Show(object? value) => value switch
    {
        null => "",
        string text => text,
        bool flag => flag ? "true" : "false",
        int number => number.ToString(CultureInfo.InvariantCulture),
        JsonValue scalar when scalar.TryGetValue<string>(out var text) => text,
        JsonValue scalar when scalar.TryGetValue<bool>(out var flag) => flag ? "true" : "false",
        JsonNode node => node.ToJsonString(),
        _ => throw new NotSupportedException($"cannot print {value.GetType().Name}"),
    };

    private static string Text(object? value) => Show(value);

    private static int Count(object? value) => value is int number ? number : throw new NotSupportedException($"expected a number, got {value}");

    private static string Indent(int spaces, string text)
    {
        var pad = new string(' ', spaces);
        return string.Join('\n', text.Split('\n').Select(line => pad + line));
    }

    private static void Merge(JsonObject target, JsonObject overrides)
    {
        foreach (var (key, value) in overrides)
        {
            if (value is JsonObject map && target[key] is JsonObject existing && map.Count > 0)
            {
                Merge(existing, map);
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }

    private static List<TemplateNode> Parse(string template)
    {
        var root = new List<TemplateNode>();
        var stack = new Stack<(List<TemplateNode> Target, IfNode? Conditional, DefineNode? Definition)>();
        var current = root;
        var position = 0;
        var trimNext = false;
        while (position < template.Length)
        {
            var open = template.IndexOf("{{", position, StringComparison.Ordinal);
            var text = template[position..(open < 0 ? template.Length : open)];
            if (trimNext)
            {
                text = text.TrimStart();
            }

            if (open < 0)
            {
                current.Add(new TextNode(text));
                break;
            }

            var close = template.IndexOf("}}", open, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"unclosed action at offset {open}");
            }

            var inner = template[(open + 2)..close];
            if (inner.StartsWith('-'))
            {
                text = text.TrimEnd();
                inner = inner[1..];
            }

            trimNext = inner.EndsWith('-');
            if (trimNext)
            {
                inner = inner[..^1];
            }

            current.Add(new TextNode(text));
            position = close + 2;
            inner = inner.Trim();

            if (inner.StartsWith("/*", StringComparison.Ordinal))
            {
                continue;
            }

            var keyword = inner.Split(' ', 2);
            switch (keyword[0])
            {
                case "if":
                    var conditional = new IfNode(keyword[1], [], []);
                    current.Add(conditional);
                    stack.Push((current, conditional, null));
                    current = conditional.Then;
                    break;
                case "else":
                    current = stack.Peek().Conditional?.Else ?? throw new FormatException("else outside if");
                    break;
                case "define":
                    var definition = new DefineNode(keyword[1].Trim().Trim('"'), []);
                    current.Add(definition);
                    stack.Push((current, null, definition));
                    current = definition.Body;
                    break;
                case "end":
                    current = stack.Pop().Target;
                    break;
                case "range" or "with" or "template" or "block":
                    throw new NotSupportedException($"{keyword[0]} is outside the renderer's subset");
                default:
                    current.Add(new ActionNode(inner.StartsWith(".Files.Get ", StringComparison.Ordinal) ? "Files.Get " + inner[11..] : inner));
                    break;
            }
        }

        return stack.Count == 0 ? root : throw new FormatException("unclosed if or define");
    }

    private static List<string> Words(string command) =>
        SplitOutsideQuotes(command.Trim(), ' ').Where(word => word.Length > 0).ToList();

    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        var parts = new List<string>();
        var quoted = false;
        var start = 0;
        for (var index = 0; index < text.Length; index++)
        {
            if (text[index] == '"' && (index == 0 || text[index - 1] != '\\'))
            {
                quoted = !quoted;
            }
            else if (text[index] == separator && !quoted)
            {
                parts.Add(text[start..index]);
                start = index + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }

    private abstract record TemplateNode;

    private sealed record TextNode(string Text) : TemplateNode;

    private sealed record ActionNode(string Pipeline) : TemplateNode;

    private sealed record IfNode(string Condition, List<TemplateNode> Then, List<TemplateNode> Else) : TemplateNode;

    private sealed record DefineNode(string Name, List<TemplateNode> Body) : TemplateNode;
}
