using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kwarm.Admission;

/// <summary>Source-generated (de)serialization: no reflection on the request path.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AdmissionReview))]
public sealed partial class AdmissionJsonContext : JsonSerializerContext;
