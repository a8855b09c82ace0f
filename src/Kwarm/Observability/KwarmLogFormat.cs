namespace Kwarm.Observability;

/// <summary>The <c>--log-format</c> choices. Lives with the logging it selects, so Hosting depends on Observability and not back.</summary>
public enum KwarmLogFormat
{
    Auto,
    Text,
    Json,
}
