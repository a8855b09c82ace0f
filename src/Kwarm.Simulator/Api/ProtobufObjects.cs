using System.Text;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>
/// Decodes the Kubernetes protobuf envelope for the few metadata-shaped kinds that kubectl's imperative
/// <c>create namespace|secret|configmap|serviceaccount</c> send as protobuf. Other kinds get a 415 that says to use
/// <c>kubectl apply -f</c>; the simulator speaks JSON everywhere else.
/// </summary>
public static class ProtobufObjects
{
    private static readonly byte[] Magic = [0x6b, 0x38, 0x73, 0x00];

    public static JsonObject Decode(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.Length < 4 || !body.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw ApiException.BadRequest("protobuf body without the k8s envelope");
        }

        string apiVersion = "", kind = "";
        byte[] raw = [];
        foreach (var (field, value) in Fields(body.AsMemory(4)))
        {
            switch (field)
            {
                case 1:
                    foreach (var (f, v) in Fields(value))
                    {
                        if (f == 1)
                        {
                            apiVersion = Text(v);
                        }
                        else if (f == 2)
                        {
                            kind = Text(v);
                        }
                    }

                    break;
                case 2:
                    raw = value.ToArray();
                    break;
            }
        }

        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (field, value) in Fields(raw))
        {
            switch (kind, field)
            {
                case (_, 1):
                    obj["metadata"] = Metadata(value);
                    break;
                case ("Namespace", 2):
                    var finalizers = Fields(value).Where(f => f.Field == 1).Select(f => (JsonNode)Text(f.Value)).ToArray();
                    if (finalizers.Length > 0)
                    {
                        obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray(finalizers) };
                    }

                    break;
                case ("Secret", 2):
                    Map(obj.Obj("data"), value, base64: true);
                    break;
                case ("Secret", 3):
                    obj["type"] = Text(value);
                    break;
                case ("Secret", 4):
                    Map(obj.Obj("stringData"), value, base64: false);
                    break;
                case ("ConfigMap", 2):
                    Map(obj.Obj("data"), value, base64: false);
                    break;
                case ("ConfigMap", 3):
                    Map(obj.Obj("binaryData"), value, base64: true);
                    break;
                case ("ServiceAccount", 3):
                    obj.Arr("imagePullSecrets").Add(new JsonObject { ["name"] = Fields(value).Where(f => f.Field == 1).Select(f => Text(f.Value)).FirstOrDefault() });
                    break;
                case ("Namespace" or "Secret" or "ConfigMap" or "ServiceAccount", _):
                    break;
                default:
                    throw new ApiException(415, "UnsupportedMediaType", $"the Kwarm simulator decodes protobuf only for Namespace, Secret, ConfigMap and ServiceAccount, not {kind}: use kubectl apply -f (JSON/YAML) for it");
            }
        }

        if (kind is not ("Namespace" or "Secret" or "ConfigMap" or "ServiceAccount"))
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the Kwarm simulator decodes protobuf only for Namespace, Secret, ConfigMap and ServiceAccount, not {kind}: use kubectl apply -f (JSON/YAML) for it");
        }

        return obj;
    }

    /// <summary>The subset of ObjectMeta a create carries: names, labels, annotations, finalizers.</summary>
    private static JsonObject Metadata(ReadOnlyMemory<byte> bytes)
    {
        var metadata = new JsonObject();
        foreach (var (field, value) in Fields(bytes))
        {
            if (value.Length == 0)
            {
                // gogo-protobuf writes empty strings and maps; JSON omits them.
                continue;
            }

            switch (field)
            {
                case 1:
                    metadata["name"] = Text(value);
                    break;
                case 2:
                    metadata["generateName"] = Text(value);
                    break;
                case 3:
                    metadata["namespace"] = Text(value);
                    break;
                case 11:
                    Map(metadata.Obj("labels"), value, base64: false);
                    break;
                case 12:
                    Map(metadata.Obj("annotations"), value, base64: false);
                    break;
                case 14:
                    metadata.Arr("finalizers").Add(Text(value));
                    break;
            }
        }

        return metadata;
    }

    private static void Map(JsonObject target, ReadOnlyMemory<byte> entry, bool base64)
    {
        string key = "", value = "";
        foreach (var (field, bytes) in Fields(entry))
        {
            if (field == 1)
            {
                key = Text(bytes);
            }
            else if (field == 2)
            {
                value = base64 ? Convert.ToBase64String(bytes.Span) : Text(bytes);
            }
        }

        target[key] = value;
    }

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    /// <summary>The length-delimited fields of a message (varint fields are skipped: none of the decoded ones need them).</summary>
    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, ReadOnlyMemory<byte>)>();
        var span = message.Span;
        var position = 0;
        while (position < span.Length)
        {
            var tag = Varint(span, ref position);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    Varint(span, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(span, ref position);
                    if (length < 0 || position + length > span.Length)
                    {
                        throw ApiException.BadRequest("malformed protobuf body");
                    }

                    fields.Add((field, message.Slice(position, length)));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw ApiException.BadRequest("malformed protobuf body");
            }
        }

        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw ApiException.BadRequest("malformed protobuf body");
            }

            var b = span[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw ApiException.BadRequest("malformed protobuf body");
    }
}
