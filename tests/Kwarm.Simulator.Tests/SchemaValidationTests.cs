using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// CRD schema validation as kube-apiserver v1.24 does it. Each expected message was recorded from that server with a
/// CRD of this same schema (issue 13's schema notes): its field paths, its wording, and its quirks.
/// </summary>
public sealed class SchemaValidationTests
{
    private static readonly JsonObject Schema = JsonNode.Parse("""
        {"type": "object", "properties": {"spec": {"type": "object",
          "x-kubernetes-validations": [{"rule": "self.s != 'cel'", "message": "s must not be cel"}],
          "properties": {
            "s": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
            "e": {"type": "string", "enum": ["A", "B", ""]},
            "i": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 2147483647},
            "i32": {"type": "integer", "format": "int32"},
            "l": {"type": "integer", "format": "int64"},
            "n": {"type": "integer", "maximum": 3},
            "arr": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
            "m": {"type": "object", "maxProperties": 2, "additionalProperties": {"type": "string", "maxLength": 3}},
            "list": {"type": "array", "items": {"type": "object", "required": ["k"], "properties": {
              "k": {"type": "string"},
              "s": {"type": "string", "maxLength": 2, "pattern": "^[a-z]+$"}}}}}}}}
        """)!.AsObject();

    [Theory]
    [InlineData("""{"s": "abcdefg"}""", "spec.s", "Invalid value: \"abcdefg\": spec.s in body should be at most 5 chars long")]
    [InlineData("""{"s": "ABCDEFGH"}""", "spec.s", "Invalid value: \"ABCDEFGH\": spec.s in body should be at most 5 chars long")]
    [InlineData("""{"s": "AB"}""", "spec.s", "Invalid value: \"AB\": spec.s in body should match '^[a-z]+$'")]
    [InlineData("""{"e": "Maybe"}""", "spec.e", "Unsupported value: \"Maybe\": supported values: \"A\", \"B\", \"\"")]
    [InlineData("""{"i": 2147483648}""", "spec.i", "Invalid value: 2147483648: spec.i in body should be less than or equal to 2147483647")]
    [InlineData("""{"i": 0}""", "spec.i", "Invalid value: 0: spec.i in body should be greater than or equal to 1")]
    [InlineData("""{"i": 1.5}""", "spec.i", "Invalid value: \"number\": spec.i in body must be of type integer: \"number\"")]
    [InlineData("""{"i": "x"}""", "spec.i", "Invalid value: \"string\": spec.i in body must be of type integer: \"string\"")]
    [InlineData("""{"l": 9223372036854775808}""", "spec.l", "Invalid value: \"number\": spec.l in body must be of type integer: \"number\"")]
    [InlineData("""{"n": 4.0}""", "spec.n", "Invalid value: 4: spec.n in body should be less than or equal to 3")]
    [InlineData("""{"arr": ["a", "b", "c", "d"]}""", "spec.arr", "Invalid value: 4: spec.arr in body should have at most 2 items")]
    [InlineData("""{"m": {"a": "x", "b": "y", "c": "z", "d": "w"}}""", "spec.m", "Invalid value: 2: spec.m in body should have at most 2 properties")]
    [InlineData("""{"m": {"a": "abcd"}}""", "spec.m.a", "Invalid value: \"abcd\": spec.m.a in body should be at most 3 chars long")]
    [InlineData("""{"list": [{"k": "a"}, {"s": "ok"}]}""", "spec.list.k", "Required value")]
    [InlineData("""{"list": [{"k": "a", "s": "A"}, {"k": "b", "s": "B"}]}""", "spec.list.s", "Invalid value: \"A\": spec.list.s in body should match '^[a-z]+$'")]
    public void A_single_violation_is_reported_as_the_api_server_does(string spec, string field, string message)
    {
        var causes = SchemaValidation.Validate(Schema, Object(spec));

        Assert.Equal([(field, message)], causes);
    }

    [Fact]
    public void Items_of_a_list_are_named_without_an_index_and_each_different_violation_is_reported()
    {
        var causes = SchemaValidation.Validate(Schema, Object("""{"list": [{"k": "a", "s": "abc"}, {"k": "b", "s": "A"}]}"""));

        Assert.Equal(
            [
                ("spec.list.s", "Invalid value: \"abc\": spec.list.s in body should be at most 2 chars long"),
                ("spec.list.s", "Invalid value: \"A\": spec.list.s in body should match '^[a-z]+$'"),
            ],
            causes);
    }

    [Fact]
    public void Format_int32_bounds_nothing_and_CEL_rules_are_not_run()
    {
        // Both accepted by kube-apiserver v1.24 with its default feature gates.
        Assert.Empty(SchemaValidation.Validate(Schema, Object("""{"i32": 2147483648, "s": "cel"}""")));
    }

    [Fact]
    public async Task A_crd_carrying_CEL_rules_is_served_and_its_objects_are_checked_by_the_OpenAPI_schema_alone()
    {
        await using var cluster = await TestCluster.StartAsync();
        var crd = new JsonObject
        {
            ["apiVersion"] = "apiextensions.k8s.io/v1",
            ["kind"] = "CustomResourceDefinition",
            ["metadata"] = new JsonObject { ["name"] = "probes.test.io" },
            ["spec"] = new JsonObject
            {
                ["group"] = "test.io",
                ["scope"] = "Namespaced",
                ["names"] = new JsonObject { ["kind"] = "Probe", ["plural"] = "probes", ["singular"] = "probe" },
                ["versions"] = new JsonArray(new JsonObject
                {
                    ["name"] = "v1",
                    ["served"] = true,
                    ["storage"] = true,
                    ["schema"] = new JsonObject { ["openAPIV3Schema"] = Schema.DeepClone() },
                }),
            },
        };
        var (created, _) = await cluster.SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        Assert.Equal(HttpStatusCode.Created, created);

        var (accepted, _) = await cluster.SendAsync(HttpMethod.Post, "/apis/test.io/v1/namespaces/default/probes", Probe("p1", """{"s": "cel"}"""));
        var (refused, status) = await cluster.SendAsync(HttpMethod.Post, "/apis/test.io/v1/namespaces/default/probes", Probe("p2", """{"s": "abcdefgh", "e": "X", "i": 2147483648}"""));

        Assert.Equal(HttpStatusCode.Created, accepted);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused);
        Assert.Equal(
            "Probe.test.io \"p2\" is invalid: [spec.s: Invalid value: \"abcdefgh\": spec.s in body should be at most 5 chars long, "
            + "spec.e: Unsupported value: \"X\": supported values: \"A\", \"B\", \"\", "
            + "spec.i: Invalid value: 2147483648: spec.i in body should be less than or equal to 2147483647]",
            status!["message"]!.GetValue<string>());
        Assert.Equal(
            ["FieldValueInvalid", "FieldValueNotSupported", "FieldValueInvalid"],
            status["details"]!["causes"]!.AsArray().Select(cause => cause!["reason"]!.GetValue<string>()));
    }

    private static JsonObject Object(string spec) => new() { ["spec"] = JsonNode.Parse(spec) };

    private static JsonObject Probe(string name, string spec) => new()
    {
        ["apiVersion"] = "test.io/v1",
        ["kind"] = "Probe",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = JsonNode.Parse(spec),
    };
}
