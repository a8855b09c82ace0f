using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Kwarm.Simulator.Api;

/// <summary>
/// OpenAPI documents, as much as kubectl needs: the v3 index and one document per group-version whose PATCH
/// operations declare the <c>fieldValidation</c> parameter (so kubectl leaves validation to the server), and
/// whose components carry the CRD schemas. No Go type schemas exist here, so kubectl computes strategic merge
/// patches for built-in types from its own compiled types, as it does when a schema is missing.
/// </summary>
public static class OpenApi
{
    public static Task ServeAsync(HttpContext context, ResourceCatalog catalog, string[] segments)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(segments);
        if (segments is ["openapi", "v2"] && context.Request.Headers.Accept.ToString().Contains("protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return WriteProtobufV2Async(context);
        }

        JsonObject document = segments switch
        {
            ["openapi", "v2"] => new JsonObject
            {
                ["swagger"] = "2.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
                ["paths"] = new JsonObject(),
                ["definitions"] = new JsonObject(),
            },
            ["openapi", "v3"] => Index(catalog),
            ["openapi", "v3", "api", var version] => GroupVersion(catalog, "", version),
            ["openapi", "v3", "apis", var group, var version] => GroupVersion(catalog, group, version),
            _ => throw new ApiException(404, "NotFound", "the server could not find the requested resource"),
        };
        return ApiServer.WriteJsonAsync(context, 200, document);
    }

    /// <summary>
    /// The Content-Type of the protobuf OpenAPI v2 document (gnostic's <c>openapi_v2.Document</c>) as kube-openapi
    /// answers it: kubectl asks with <c>...spec.v2@v1.0+protobuf</c>, whose <c>@</c> Go's media type parser refuses in a reply.
    /// </summary>
    public const string ProtobufV2MediaType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    /// <summary>
    /// kubectl validates a kind that the v3 index does not list (one no CRD defines yet, e.g. cert-manager's Issuer) by
    /// fetching this document as protobuf, and fails the whole apply with "proto: cannot parse invalid wire-format data"
    /// when JSON comes back. An empty but well-formed document makes it skip client-side validation for that kind and
    /// report what a cluster reports: "no matches for kind".
    /// </summary>
    private static async Task WriteProtobufV2Async(HttpContext context)
    {
        var info = Concat(ProtobufString(1, "Kubernetes"), ProtobufString(2, "v1.32.0"));
        byte[] document = Concat(
            ProtobufString(1, "2.0"),       // swagger
            ProtobufField(2, info),          // info
            ProtobufField(8, []),            // paths
            ProtobufField(9, []));           // definitions
        context.Response.StatusCode = 200;
        context.Response.ContentType = ProtobufV2MediaType;
        context.Response.ContentLength = document.Length;
        await context.Response.Body.WriteAsync(document, context.RequestAborted).ConfigureAwait(false);
    }

    private static byte[] ProtobufString(int field, string value) => ProtobufField(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A length-delimited protobuf field (wire type 2); the lengths here stay below 128, one varint byte.</summary>
    private static byte[] ProtobufField(int field, byte[] payload) =>
        payload.Length < 128 ? [(byte)((field << 3) | 2), (byte)payload.Length, .. payload] : throw new ArgumentOutOfRangeException(nameof(payload));

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(part => part)];

    private static JsonObject Index(ResourceCatalog catalog)
    {
        var paths = new JsonObject();
        foreach (var (group, version) in catalog.GroupVersions())
        {
            var key = group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(GroupVersion(catalog, group, version).ToJsonString())))[..32];
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={hash}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    private static JsonObject GroupVersion(ResourceCatalog catalog, string group, string version)
    {
        var types = catalog.InGroupVersion(group, version);
        if (types.Count == 0)
        {
            throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        }

        var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var type in types)
        {
            var path = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}/{{name}}" : $"{prefix}/{type.Plural}/{{name}}";
            var gvk = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = type.Kind };
            paths[path] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["operationId"] = $"patch{type.Kind}",
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = gvk,
                    ["parameters"] = new JsonArray(
                        Query("dryRun"),
                        Query("fieldManager"),
                        Query("fieldValidation"),
                        Query("force")),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                },
            };
            if (type.Schema is not null)
            {
                var schema = (JsonObject)type.Schema.DeepClone();
                schema["x-kubernetes-group-version-kind"] = new JsonArray(gvk.DeepClone());
                schemas[$"{ReverseGroup(group)}.{version}.{type.Kind}"] = schema;
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static JsonObject Query(string name) => new()
    {
        ["name"] = name,
        ["in"] = "query",
        ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
    };

    private static string ReverseGroup(string group) => string.Join('.', group.Split('.').Reverse());
}
