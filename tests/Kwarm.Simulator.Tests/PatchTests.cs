using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Tests;

public sealed class PatchTests
{
    private static JsonNode Parse(string json) => JsonNode.Parse(json)!;

    private static void Same(string expected, JsonNode actual) => FixtureFidelityTests.AssertJsonEqual(Parse(expected), actual);

    [Fact]
    public void Json_patch_supports_every_operation_and_escaped_keys()
    {
        var document = Parse("""{"metadata":{"annotations":{"a":"1"}},"list":[1,2,3]}""");
        var patch = Parse("""
            [{"op":"add","path":"/metadata/annotations/kwarm.io~1hold","value":"h"},
             {"op":"test","path":"/metadata/annotations/a","value":"1"},
             {"op":"replace","path":"/list/0","value":9},
             {"op":"remove","path":"/list/1"},
             {"op":"add","path":"/list/-","value":4},
             {"op":"copy","from":"/list/0","path":"/copied"},
             {"op":"move","from":"/metadata/annotations/a","path":"/moved"}]
            """);
        Same("""{"metadata":{"annotations":{"kwarm.io/hold":"h"}},"list":[9,3,4],"copied":9,"moved":"1"}""", JsonPatch.Apply(document, patch));
    }

    [Theory]
    [InlineData("""[{"op":"test","path":"/a","value":2}]""")]
    [InlineData("""[{"op":"remove","path":"/missing"}]""")]
    [InlineData("""[{"op":"replace","path":"/b/c","value":1}]""")]
    [InlineData("""[{"op":"bogus","path":"/a"}]""")]
    public void Json_patch_failures_are_the_generic_422(string patch)
    {
        var error = Assert.Throws<ApiException>(() => JsonPatch.Apply(Parse("""{"a":1}"""), Parse(patch)));
        Assert.Equal(422, error.Code);
        FixtureFidelityTests.AssertJsonEqual(Fixtures.Json("api/json-patch-test-failed.json"), error.ToStatus());
    }

    [Fact]
    public void Merge_patch_removes_nulls_and_replaces_lists()
    {
        Same("""{"a":{"c":3},"list":[9]}""", MergePatch.Apply(Parse("""{"a":{"b":1,"c":2},"list":[1,2]}"""), Parse("""{"a":{"b":null,"c":3},"list":[9]}"""))!);
    }

    [Fact]
    public void Strategic_merge_merges_lists_by_their_keys()
    {
        var target = Parse("""
            {"spec":{"containers":[{"name":"web","image":"a:1","env":[{"name":"A","value":"1"}],"ports":[{"containerPort":80,"name":"http"}]},{"name":"side","image":"s:1"}],
                     "tolerations":[{"key":"x","operator":"Exists"}],"volumes":[{"name":"v1","emptyDir":{}}]},
             "metadata":{"finalizers":["a"]}}
            """);
        var patch = Parse("""
            {"spec":{"containers":[{"name":"web","image":"a:2","env":[{"name":"B","value":"2"}],"ports":[{"containerPort":80,"protocol":"TCP"}]},{"name":"side","$patch":"delete"}],
                     "tolerations":[{"key":"y","operator":"Exists"}],"volumes":[{"name":"v2","emptyDir":{}}]},
             "metadata":{"finalizers":["b"]}}
            """);
        // An entry the patch adds goes before the stored entries the patch does not name, as kube-apiserver merges
        // (apimachinery's normalizeElementOrder; KubectlScenarios measures it on a real v1.24 server).
        Same("""
            {"spec":{"containers":[{"name":"web","image":"a:2","env":[{"name":"B","value":"2"},{"name":"A","value":"1"}],"ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]}],
                     "tolerations":[{"key":"y","operator":"Exists"}],"volumes":[{"name":"v2","emptyDir":{}},{"name":"v1","emptyDir":{}}]},
             "metadata":{"finalizers":["a","b"]}}
            """, StrategicMergePatch.Apply(target, patch));
    }

    [Fact]
    public void Strategic_merge_honours_kubectl_directives()
    {
        var target = Parse("""{"spec":{"containers":[{"name":"a"},{"name":"b"}],"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},"keep":{"x":1,"y":2}},"metadata":{"finalizers":["f1","f2"]}}""");
        var patch = Parse("""
            {"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a","image":"i"}],
                     "strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null},"keep":{"$patch":"replace","z":3}},
             "metadata":{"$deleteFromPrimitiveList/finalizers":["f1"]}}
            """);
        Same("""{"spec":{"containers":[{"name":"b"},{"name":"a","image":"i"}],"strategy":{"type":"Recreate"},"keep":{"z":3}},"metadata":{"finalizers":["f2"]}}""", StrategicMergePatch.Apply(target, patch));
    }
}
