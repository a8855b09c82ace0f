using System.Text.Json.Nodes;
using Json.Schema;

namespace Kwarm.Tests.Resources;

/// <summary>The OpenAPI v3 → JSON Schema conversion the CRD tests rely on: every keyword is honoured or refused.</summary>
public sealed class OpenApiSchemaConverterTests
{
    [Theory]
    [InlineData("""{"type": "integer", "minimumm": 1}""", "minimumm")]
    [InlineData("""{"type": "object", "properties": {"a": {"type": "string", "$ref": "#/x"}}}""", "$ref")]
    [InlineData("""{"type": "string", "format": "uuid"}""", "uuid")]
    [InlineData("""{"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"}""", "bag")]
    [InlineData("""{"type": "integer", "exclusiveMinimum": true}""", "exclusiveMinimum")]
    public void Refuses_keywords_it_cannot_honour(string schema, string named)
    {
        var exception = Assert.Throws<NotSupportedException>(() => OpenApiSchemaConverter.Convert(JsonNode.Parse(schema)!));

        Assert.Contains(named, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_validator_refuses_a_keyword_it_does_not_implement()
    {
        var schema = JsonNode.Parse("""{"type": "integer", "minimumm": 1}""")!.AsObject();

        var exception = Assert.Throws<JsonSchemaException>(() => CustomResourceDefinitionFile.BuildStrict(schema));

        Assert.Contains("minimumm", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "string"}""", "null", false)]
    [InlineData("""{"type": "string", "nullable": true}""", "null", true)]
    [InlineData("""{"type": "string", "nullable": true, "enum": ["a"]}""", "null", true)]
    [InlineData("""{"type": "string", "nullable": true, "enum": ["a"]}""", "\"b\"", false)]
    [InlineData("""{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": "^[0-9]+m?$"}""", "5", true)]
    [InlineData("""{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": "^[0-9]+m?$"}""", "\"5m\"", true)]
    [InlineData("""{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": "^[0-9]+m?$"}""", "\"five\"", false)]
    [InlineData("""{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}""", "true", false)]
    [InlineData("""{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}""", "1.5", false)]
    [InlineData("""{"type": "integer", "minimum": 0, "exclusiveMinimum": true}""", "0", false)]
    [InlineData("""{"type": "integer", "minimum": 0, "exclusiveMinimum": true}""", "1", true)]
    // Measured on kube-apiserver v1.24: format int32 bounds nothing (only maximum does), while a number beyond int64 is
    // refused as not an integer at all ("must be of type integer: \"number\"").
    [InlineData("""{"type": "integer", "format": "int32"}""", "2147483648", true)]
    [InlineData("""{"type": "integer", "format": "int32", "maximum": 2147483647}""", "2147483648", false)]
    [InlineData("""{"type": "integer", "format": "int64"}""", "9223372036854775808", false)]
    [InlineData("""{"type": "integer", "format": "int64"}""", "9223372036854775807", true)]
    [InlineData("""{"type": "string", "format": "date-time"}""", "\"2026-11-26T10:00:00Z\"", true)]
    [InlineData("""{"type": "string", "format": "date-time"}""", "\"26/11/2026\"", false)]
    [InlineData("""{"type": "string", "pattern": "^a$"}""", "\"a\\n\"", false)]
    [InlineData("""{"type": "object", "properties": {"a": {"type": "string"}}}""", """{"b": "x"}""", false)]
    [InlineData("""{"type": "object", "properties": {"a": {"type": "string"}}, "x-kubernetes-preserve-unknown-fields": true}""", """{"b": "x"}""", true)]
    [InlineData("""{"type": "object"}""", """{"anything": {"goes": 1}}""", true)]
    [InlineData("""{"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}""", """["a", "a"]""", false)]
    [InlineData("""{"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "atomic"}""", """["a", "a"]""", true)]
    [InlineData("""{"type": "object", "additionalProperties": {"type": "string"}}""", """{"k": 1}""", false)]
    [InlineData("""{"type": "string", "description": "d", "default": "x", "example": "y"}""", "\"z\"", true)]
    // Kubernetes 1.24 drops CEL rules (its feature gate is off), so the converted schema judges without them.
    [InlineData("""{"type": "string", "x-kubernetes-validations": [{"rule": "self != ''"}]}""", "\"\"", true)]
    public void Converted_schema_judges_like_the_api_server(string openApi, string instance, bool valid)
    {
        var validator = CustomResourceDefinitionFile.BuildStrict(OpenApiSchemaConverter.Convert(JsonNode.Parse(openApi)!));

        var errors = CustomResourceDefinitionFile.Validate(validator, JsonNode.Parse(instance) ?? JsonValue.Create<string?>(null)!);

        Assert.Equal(valid, errors.Count == 0);
    }
}
