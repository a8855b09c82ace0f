using System.Text.Json.Nodes;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>The CRD manifests: names, scope, subresources, printer columns, and the structural-schema rules of Kubernetes 1.24.</summary>
public sealed partial class CrdDefinitionTests
{
    public static TheoryData<string> Crds => ["PrePullPolicy", "PrePullImage"];

    [Fact]
    public void PrePullPolicy_is_cluster_scoped_with_short_name_ppp()
    {
        var crd = CustomResourceDefinitionFile.PrePullPolicy.Definition;

        Assert.Equal("prepullpolicies.kwarm.io", crd["metadata"]!["name"]!.GetValue<string>());
        AssertNames(crd, "Cluster", PrePullPolicy.KubeKind, PrePullPolicy.KubePluralName, "ppp");
    }

    [Fact]
    public void PrePullImage_is_namespaced_with_short_name_ppi()
    {
        var crd = CustomResourceDefinitionFile.PrePullImage.Definition;

        Assert.Equal("prepullimages.kwarm.io", crd["metadata"]!["name"]!.GetValue<string>());
        AssertNames(crd, "Namespaced", PrePullImage.KubeKind, PrePullImage.KubePluralName, "ppi");
    }

    [Fact]
    public void PrePullImage_printer_columns_are_image_phase_completed_total_age()
    {
        var columns = PrinterColumns(CustomResourceDefinitionFile.PrePullImage)
            .Where(c => c["priority"] is null)
            .Select(c => (c["name"]!.GetValue<string>(), c["jsonPath"]!.GetValue<string>()));

        Assert.Equal(
            [
                ("Image", ".spec.image"),
                ("Phase", ".status.phase"),
                ("Completed", ".status.summary.completed"),
                ("Total", ".status.summary.total"),
                ("Age", ".metadata.creationTimestamp"),
            ],
            columns);
    }

    [Fact]
    public void PrePullPolicy_printer_columns_show_watched_deployments_and_holds()
    {
        var names = PrinterColumns(CustomResourceDefinitionFile.PrePullPolicy).Where(c => c["priority"] is null).Select(c => c["name"]!.GetValue<string>());

        Assert.Equal(["Watched", "Holds", "Age"], names);
    }

    [Theory]
    [MemberData(nameof(Crds))]
    public void Printer_columns_point_at_schema_fields_of_their_type(string kind)
    {
        var crd = File(kind);
        foreach (var column in PrinterColumns(crd))
        {
            var path = column["jsonPath"]!.GetValue<string>();
            var type = column["type"]!.GetValue<string>();
            if (path == ".metadata.creationTimestamp")
            {
                Assert.Equal("date", type);
                continue;
            }

            var field = SchemaAt(crd.OpenApiSchema, path.TrimStart('.'));
            Assert.Equal(type, field["type"]!.GetValue<string>());
        }
    }

    [Theory]
    [MemberData(nameof(Crds))]
    public void Single_version_is_served_and_stored_with_a_status_subresource(string kind)
    {
        var crd = File(kind);

        Assert.Equal("apiextensions.k8s.io/v1", crd.Definition["apiVersion"]!.GetValue<string>());
        Assert.Equal(KwarmApi.Group, crd.Definition["spec"]!["group"]!.GetValue<string>());
        Assert.Equal(KwarmApi.Version, crd.Version["name"]!.GetValue<string>());
        Assert.True(crd.Version["served"]!.GetValue<bool>());
        Assert.True(crd.Version["storage"]!.GetValue<bool>());
        Assert.Empty(crd.Version["subresources"]!["status"]!.AsObject());
        Assert.Null(crd.Definition["spec"]!["preserveUnknownFields"]);
    }

    [Theory]
    [MemberData(nameof(Crds))]
    public void Schema_is_structural_and_its_CEL_rules_are_bounded(string kind)
    {
        var problems = new List<string>();

        CheckStructural(File(kind).OpenApiSchema, "openAPIV3Schema", problems, insideJunctor: false, insideUnboundedList: false);

        Assert.Empty(problems);
    }

    [Fact]
    public void Structural_check_catches_a_missing_type_a_typed_junctor_a_map_key_that_is_not_required_and_unbounded_CEL()
    {
        var schema = CustomResourceDefinitionFile.PrePullImage.OpenApiSchema.DeepClone().AsObject();
        var spec = schema["properties"]!["spec"]!.AsObject();
        spec["properties"]!["image"]!.AsObject().Remove("type");
        spec["properties"]!["timeout"]!["anyOf"] = new JsonArray(new JsonObject { ["type"] = "string" });
        var nodes = schema["properties"]!["status"]!["properties"]!["nodes"]!.AsObject();
        nodes["items"]!["required"] = new JsonArray("status");
        nodes["items"]!["x-kubernetes-validations"] = new JsonArray(new JsonObject { ["rule"] = "self.error != ''" });
        spec["properties"]!["tolerations"]!.AsObject().Remove("maxItems");
        var problems = new List<string>();

        CheckStructural(schema, "openAPIV3Schema", problems, insideJunctor: false, insideUnboundedList: false);

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, problems));
        Assert.Equal(6, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("openAPIV3Schema.properties.spec.properties.image:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("openAPIV3Schema.properties.spec.properties.timeout.anyOf[0]:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("openAPIV3Schema.properties.status.properties.nodes:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("openAPIV3Schema.properties.spec.properties.tolerations.items: a CEL rule inside a list", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("openAPIV3Schema.properties.status.properties.nodes.items: a CEL rule inside a list", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("openAPIV3Schema.properties.status.properties.nodes.items: the CEL rule reads self.error", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Crds))]
    public void Every_default_is_valid_for_its_own_field(string kind)
    {
        var crd = File(kind);
        var checkedDefaults = 0;
        foreach (var (path, schema) in Walk(crd.OpenApiSchema, ""))
        {
            if (schema["default"] is not { } defaultValue)
            {
                continue;
            }

            var fieldSchema = schema.DeepClone().AsObject();
            fieldSchema.Remove("default");
            var validator = CustomResourceDefinitionFile.BuildStrict(OpenApiSchemaConverter.Convert(fieldSchema));
            Assert.True(CustomResourceDefinitionFile.Validate(validator, defaultValue.DeepClone()).Count == 0, $"default of {path}");
            checkedDefaults++;
        }

        Assert.True(checkedDefaults >= 4, $"only {checkedDefaults} defaults found");
    }

    /// <summary>Duration settings carry the bounded pattern (at most 24h); durations Kwarm writes in status, the general one.</summary>
    [Theory]
    [MemberData(nameof(Crds))]
    public void Every_duration_field_carries_the_go_duration_pattern(string kind)
    {
        var durationFields = Walk(File(kind).OpenApiSchema, "")
            .Where(field => field.Path.EndsWith("timeout", StringComparison.OrdinalIgnoreCase) || field.Path.EndsWith("duration", StringComparison.OrdinalIgnoreCase))
            .ToList();

        Assert.NotEmpty(durationFields);
        Assert.All(durationFields, field => Assert.Equal(
            field.Path.StartsWith("spec.", StringComparison.Ordinal) ? GoDuration.BoundedPattern : GoDuration.Pattern,
            field.Schema["pattern"]?.GetValue<string>()));
    }

    [Theory]
    [InlineData("PrePullPolicy", "spec.timeout", true)]
    [InlineData("PrePullPolicy", "spec.hold.maxDuration", true)]
    [InlineData("PrePullImage", "spec.timeout", true)]
    [InlineData("PrePullImage", "status.nodes.duration", false)]
    public void Known_duration_fields_carry_the_pattern(string kind, string path, bool bounded)
    {
        Assert.Equal(bounded ? GoDuration.BoundedPattern : GoDuration.Pattern, DurationPattern(File(kind), path));
    }

    /// <summary>The <c>pattern</c> of a string field, by dotted path through properties (and array items).</summary>
    internal static string DurationPattern(CustomResourceDefinitionFile crd, string path) =>
        SchemaAt(crd.OpenApiSchema, path)["pattern"]!.GetValue<string>();

    private static CustomResourceDefinitionFile File(string kind) =>
        kind == "PrePullPolicy" ? CustomResourceDefinitionFile.PrePullPolicy : CustomResourceDefinitionFile.PrePullImage;

    private static void AssertNames(JsonNode crd, string scope, string kind, string plural, string shortName)
    {
        var spec = crd["spec"]!;
        var names = spec["names"]!;
        Assert.Equal(scope, spec["scope"]!.GetValue<string>());
        Assert.Equal(kind, names["kind"]!.GetValue<string>());
        Assert.Equal(plural, names["plural"]!.GetValue<string>());
        Assert.Equal(kind.ToLowerInvariant(), names["singular"]!.GetValue<string>());
        Assert.Equal([shortName], names["shortNames"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["kwarm"], names["categories"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    private static IEnumerable<JsonObject> PrinterColumns(CustomResourceDefinitionFile crd) =>
        crd.Version["additionalPrinterColumns"]!.AsArray().Select(c => c!.AsObject());

    private static JsonObject SchemaAt(JsonObject schema, string dottedPath)
    {
        var current = schema;
        foreach (var name in dottedPath.Split('.'))
        {
            while (current["type"]?.GetValue<string>() == "array")
            {
                current = current["items"]!.AsObject();
            }

            current = current["properties"]?[name]?.AsObject() ?? throw new KeyNotFoundException($"{dottedPath}: no field {name}");
        }

        return current;
    }

    private static IEnumerable<(string Path, JsonObject Schema)> Walk(JsonObject schema, string path)
    {
        yield return (path, schema);
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                foreach (var nested in Walk(child!.AsObject(), path.Length == 0 ? name : $"{path}.{name}"))
                {
                    yield return nested;
                }
            }
        }

        foreach (var keyword in new[] { "items", "additionalProperties" })
        {
            if (schema[keyword] is JsonObject child)
            {
                foreach (var nested in Walk(child, path))
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>
    /// The rules the API server applies to a CRD schema (structural schemas, apiextensions.k8s.io/v1 on 1.24):
    /// a type everywhere (except int-or-string and preserve-unknown-fields), no type, default, description or
    /// nullable inside anyOf/allOf/oneOf/not (int-or-string's own anyOf aside), no properties with
    /// additionalProperties, list-map keys that are required scalars. CEL rules (x-kubernetes-validations) are
    /// dropped by 1.24 and run from 1.25 on, where the API server refuses a CRD whose rules' estimated cost exceeds a
    /// budget: so every rule must sit under lists with maxItems, a map rule needs maxProperties, and every string (or
    /// list of strings) a rule reads needs maxLength, else the estimate assumes the whole request size.
    /// </summary>
    private static void CheckStructural(JsonObject schema, string path, List<string> problems, bool insideJunctor, bool insideUnboundedList)
    {
        var intOrString = schema["x-kubernetes-int-or-string"]?.GetValue<bool>() ?? false;
        var preserveUnknown = schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() ?? false;
        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            CheckRuleBounds(schema, rules, path, problems, insideUnboundedList);
        }

        if (insideJunctor)
        {
            foreach (var forbidden in new[] { "type", "default", "description", "nullable", "additionalProperties" })
            {
                if (schema.ContainsKey(forbidden))
                {
                    problems.Add($"{path}: {forbidden} is not allowed inside anyOf/allOf/oneOf/not");
                }
            }
        }
        else if (schema["type"] is null && !intOrString && !preserveUnknown)
        {
            problems.Add($"{path}: type is required");
        }

        if (schema.ContainsKey("properties") && schema.ContainsKey("additionalProperties"))
        {
            problems.Add($"{path}: properties and additionalProperties are mutually exclusive");
        }

        if (schema["x-kubernetes-list-type"]?.GetValue<string>() == "map")
        {
            var items = schema["items"]!.AsObject();
            var required = (items["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()).ToHashSet();
            foreach (var key in (schema["x-kubernetes-list-map-keys"] as JsonArray ?? []).Select(k => k!.GetValue<string>()))
            {
                var keySchema = items["properties"]?[key];
                if (keySchema is null || (!required.Contains(key) && keySchema["default"] is null))
                {
                    problems.Add($"{path}: list-map key {key} must be a required (or defaulted) field of the items");
                }
            }
        }

        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                CheckStructural(child!.AsObject(), $"{path}.properties.{name}", problems, insideJunctor, insideUnboundedList);
            }
        }

        foreach (var keyword in new[] { "items", "additionalProperties", "not" })
        {
            if (schema[keyword] is JsonObject child)
            {
                var unbounded = insideUnboundedList || (keyword == "items" && schema["maxItems"] is null);
                CheckStructural(child, $"{path}.{keyword}", problems, insideJunctor || keyword == "not", unbounded);
            }
        }

        foreach (var junctor in new[] { "anyOf", "allOf", "oneOf" })
        {
            if (schema[junctor] is not JsonArray branches)
            {
                continue;
            }

            var isIntOrStringPair = intOrString && junctor == "anyOf" && branches.Count == 2
                && branches[0]?["type"]?.GetValue<string>() == "integer" && branches[1]?["type"]?.GetValue<string>() == "string";
            if (isIntOrStringPair)
            {
                continue;
            }

            for (var i = 0; i < branches.Count; i++)
            {
                CheckStructural(branches[i]!.AsObject(), $"{path}.{junctor}[{i}]", problems, insideJunctor: true, insideUnboundedList);
            }
        }
    }

    private static void CheckRuleBounds(JsonObject schema, JsonArray rules, string path, List<string> problems, bool insideUnboundedList)
    {
        if (insideUnboundedList)
        {
            problems.Add($"{path}: a CEL rule inside a list without maxItems: Kubernetes 1.25+ would estimate its cost as unbounded");
        }

        if (schema["additionalProperties"] is JsonObject && schema["maxProperties"] is null)
        {
            problems.Add($"{path}: a CEL rule on a map without maxProperties");
        }

        var properties = schema["properties"] as JsonObject ?? [];
        foreach (var rule in rules.Select(rule => rule!["rule"]!.GetValue<string>()))
        {
            foreach (var name in SelfFieldRegex().Matches(rule).Select(match => match.Groups[1].Value).Distinct(StringComparer.Ordinal))
            {
                var field = properties[name]?.AsObject();
                var text = field?["type"]?.GetValue<string>() == "array" ? field["items"]?.AsObject() : field;
                if (field is null || (text?["type"]?.GetValue<string>() == "string" && text["maxLength"] is null))
                {
                    problems.Add($"{path}: the CEL rule reads self.{name}, which {(field is null ? "is not a field" : "has no maxLength")}");
                }
            }
        }
    }

    // A field of self, not a macro or method called on it (self.all(...)).
    [System.Text.RegularExpressions.GeneratedRegex(@"self\.([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")]
    private static partial System.Text.RegularExpressions.Regex SelfFieldRegex();
}
