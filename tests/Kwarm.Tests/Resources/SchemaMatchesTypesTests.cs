using System.Text.Json.Nodes;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>One source of truth: the CRD YAML and the C# types describe the same fields with the same types.</summary>
public sealed class SchemaMatchesTypesTests
{
    [Fact]
    public void PrePullPolicy_type_and_schema_have_the_same_fields()
    {
        var problems = SchemaContract.Mismatches(typeof(PrePullPolicy), CustomResourceDefinitionFile.PrePullPolicy.OpenApiSchema, "");

        Assert.Empty(problems);
    }

    [Fact]
    public void PrePullImage_type_and_schema_have_the_same_fields()
    {
        var problems = SchemaContract.Mismatches(typeof(PrePullImage), CustomResourceDefinitionFile.PrePullImage.OpenApiSchema, "");

        Assert.Empty(problems);
    }

    [Fact]
    public void Contract_check_reports_a_field_missing_from_the_schema_a_wrong_type_and_a_wrong_enum()
    {
        var schema = CustomResourceDefinitionFile.PrePullPolicy.OpenApiSchema.DeepClone().AsObject();
        var spec = schema["properties"]!["spec"]!["properties"]!.AsObject();
        spec.Remove("priorityClassName");
        spec["retry"]!["properties"]!["maxAttempts"]!["type"] = "string";
        spec["hold"]!["properties"]!["onFailure"]!["enum"]!.AsArray().Add("Retry");
        spec["extra"] = new JsonObject { ["type"] = "string" };

        var problems = SchemaContract.Mismatches(typeof(PrePullPolicy), schema, "");

        Assert.Contains(problems, p => p.StartsWith("spec.priorityClassName:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("spec.retry.maxAttempts:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("spec.hold.onFailure:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("spec.extra:", StringComparison.Ordinal));
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void Contract_check_reports_an_embedded_kubernetes_field_that_does_not_exist()
    {
        var schema = CustomResourceDefinitionFile.PrePullImage.OpenApiSchema.DeepClone().AsObject();
        schema["properties"]!["spec"]!["properties"]!["tolerations"]!["items"]!["properties"]!["tolerationSecs"] =
            new JsonObject { ["type"] = "integer", ["format"] = "int64" };

        var problems = SchemaContract.Mismatches(typeof(PrePullImage), schema, "");

        Assert.Equal(["spec.tolerations[*].tolerationSecs: in the schema but not in V1Toleration"], problems);
    }
}
