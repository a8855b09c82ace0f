using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>An API error carried to the client as a <c>Status</c> body shaped exactly like kube-apiserver's.</summary>
public sealed class ApiException : Exception
{
    public ApiException(int code, string reason, string message, JsonObject? details = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public ApiException()
        : this(500, "InternalError", "internal error")
    {
    }

    public ApiException(string message)
        : this(500, "InternalError", message)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = 500;
        Reason = "InternalError";
    }

    public int Code { get; }

    public string Reason { get; } = "InternalError";

    public JsonObject? Details { get; }

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        if (Details is not null)
        {
            status["details"] = Details.DeepClone();
        }

        status["code"] = Code;
        return status;
    }

    private static JsonObject NameDetails(ResourceType type, string name)
    {
        var details = new JsonObject { ["name"] = name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = type.Plural;
        return details;
    }

    public static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.QualifiedName} \"{name}\" not found", NameDetails(type, name));

    public static ApiException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.QualifiedName} \"{name}\" already exists", NameDetails(type, name));

    public static ApiException Conflict(ResourceType type, string name) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", NameDetails(type, name));

    /// <summary>A 422 like the API server's validation errors: one cause per field.</summary>
    public static ApiException Invalid(ResourceType type, string name, params (string Field, string Message)[] causes)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(causes);
        var details = new JsonObject { ["name"] = name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = type.Kind;
        var causeArray = new JsonArray();
        foreach (var (field, message) in causes)
        {
            causeArray.Add(new JsonObject { ["reason"] = CauseReason(message), ["message"] = message, ["field"] = field });
        }

        details["causes"] = causeArray;
        var kind = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        var joined = string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}"));
        var message2 = causes.Length == 1 ? $"{kind} \"{name}\" is invalid: {joined}" : $"{kind} \"{name}\" is invalid: [{joined}]";
        return new ApiException(422, "Invalid", message2, details);
    }

    /// <summary>The cause reason the API server gives each kind of field error (apimachinery's field.ErrorType), by its message.</summary>
    private static string CauseReason(string message) =>
        message.StartsWith("Unsupported value", StringComparison.Ordinal) ? "FieldValueNotSupported"
        : message.StartsWith("Required value", StringComparison.Ordinal) ? "FieldValueRequired"
        : message.StartsWith("Forbidden", StringComparison.Ordinal) ? "FieldValueForbidden"
        : message.StartsWith("Duplicate value", StringComparison.Ordinal) ? "FieldValueDuplicate"
        : "FieldValueInvalid";

    /// <summary>The generic 422 kube-apiserver answers when a JSON patch cannot be applied (fixture json-patch-test-failed.json).</summary>
    public static ApiException PatchRejected() =>
        new(422, "Invalid", "the server rejected our request due to an error in our request", new JsonObject());

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException Expired(string message) => new(410, "Expired", message);

    public static ApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static ApiException UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {contentType})");

    public static ApiException Forbidden(string message) => new(403, "Forbidden", message);

    public static ApiException InternalError(string message) => new(500, "InternalError", message);
}
