using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Kwarm.Tests.Resources;

/// <summary>
/// One CRD YAML of <c>deploy/crds</c>, read as it is (no copy of its schema lives in the tests), with a validator
/// built from its own <c>openAPIV3Schema</c>.
/// </summary>
internal sealed partial class CustomResourceDefinitionFile
{
    private static readonly EvaluationOptions Evaluation = new()
    {
        OutputFormat = OutputFormat.Hierarchical,
        RequireFormatValidation = true,
    };

    private readonly JsonSchema _validator;

    private CustomResourceDefinitionFile(string path, JsonObject definition)
    {
        Path = path;
        Definition = definition;
        Version = definition["spec"]!["versions"]!.AsArray().Single()!.AsObject();
        OpenApiSchema = Version["schema"]!["openAPIV3Schema"]!.AsObject();
        _validator = BuildStrict(OpenApiSchemaConverter.Convert(OpenApiSchema));
    }

    public string Path { get; }

    public JsonObject Definition { get; }

    /// <summary>The single served version, <c>v1alpha1</c>.</summary>
    public JsonObject Version { get; }

    public JsonObject OpenApiSchema { get; }

    public static CustomResourceDefinitionFile PrePullPolicy { get; } = Load(RepositoryFiles.PrePullPolicyCrd);

    public static CustomResourceDefinitionFile PrePullImage { get; } = Load(RepositoryFiles.PrePullImageCrd);

    public static CustomResourceDefinitionFile Load(string path) =>
        new(path, YamlJson.ReadFile(path).AsObject());

    /// <summary>
    /// Builds a JSON Schema 2020-12 validator that throws on any keyword it does not implement, so that nothing
    /// in a converted schema can be skipped silently.
    /// </summary>
    public static JsonSchema BuildStrict(JsonObject jsonSchema)
    {
        var options = new BuildOptions
        {
            Dialect = Dialect.Draft202012.With([], allowUnknownKeywords: false),
            SchemaRegistry = new SchemaRegistry(),
        };
        return JsonSchema.Build(JsonSerializer.SerializeToElement(jsonSchema), options, new Uri($"https://kwarm.io/tests/{Guid.NewGuid():N}"));
    }

    /// <summary>
    /// The reasons <paramref name="instance"/> would be rejected, each as <c>field.path: message</c> in the
    /// API server's field-path notation; empty when the object is valid.
    /// </summary>
    public IReadOnlyList<string> Validate(JsonNode instance) => Validate(_validator, instance);

    public static IReadOnlyList<string> Validate(JsonSchema schema, JsonNode instance)
    {
        var results = schema.Evaluate(JsonSerializer.SerializeToElement(instance), Evaluation);
        if (results.IsValid)
        {
            return [];
        }

        var problems = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var detail in Flatten(results))
        {
            if (detail.IsValid || detail.Errors is not { Count: > 0 } errors)
            {
                continue;
            }

            var fieldPath = ToFieldPath(detail.InstanceLocation.ToString());
            foreach (var (keyword, message) in errors)
            {
                if (keyword == "required")
                {
                    // Name each missing field, as the API server does ("spec.image: Required value").
                    foreach (Match missing in QuotedName().Matches(message))
                    {
                        problems.Add($"{Join(fieldPath, missing.Groups[1].Value)}: Required value");
                    }
                }
                else if (keyword.Length == 0)
                {
                    // The "false" schema the converter puts on undeclared properties.
                    problems.Add($"{fieldPath}: unknown field (not declared in the schema; the API server would drop it)");
                }
                else
                {
                    problems.Add($"{(fieldPath.Length == 0 ? "<root>" : fieldPath)}: {message} ({keyword})");
                }
            }
        }

        if (problems.Count == 0)
        {
            problems.Add("<root>: invalid, without a detailed message");
        }

        return [.. problems];
    }

    /// <summary>
    /// The failed results, walking down only through failed ones: a branch of an <c>anyOf</c> that passes as a whole
    /// (an int-or-string quantity given as a string fails the integer branch) is not an error.
    /// </summary>
    private static IEnumerable<EvaluationResults> Flatten(EvaluationResults results)
    {
        if (results.IsValid)
        {
            yield break;
        }

        yield return results;
        foreach (var detail in results.Details ?? [])
        {
            foreach (var nested in Flatten(detail))
            {
                yield return nested;
            }
        }
    }

    /// <summary><c>/spec/nodes/2/node</c> → <c>spec.nodes[2].node</c>.</summary>
    private static string ToFieldPath(string pointer)
    {
        var path = "";
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            path = segment.All(char.IsAsciiDigit) ? $"{path}[{segment}]" : Join(path, segment);
        }

        return path;
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    [GeneratedRegex("\"([^\"]+)\"")]
    private static partial Regex QuotedName();
}
