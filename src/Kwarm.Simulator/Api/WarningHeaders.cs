using Microsoft.AspNetCore.Http;

namespace Kwarm.Simulator.Api;

/// <summary>
/// Warnings for the client, sent as the API server sends them: one <c>Warning: 299 - "text"</c> header each
/// (RFC 7234 warn-code 299, no agent), duplicates dropped, so kubectl prints <c>Warning: text</c> once even when a
/// patch retried on a conflict called the webhooks again.
/// </summary>
internal sealed class WarningHeaders(HttpResponse response)
{
    private readonly HashSet<string> _sent = new(StringComparer.Ordinal);

    public void Add(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        lock (_sent)
        {
            if (response.HasStarted || !_sent.Add(text))
            {
                return;
            }

            response.Headers.Append("Warning", Format(text));
        }
    }

    /// <summary>
    /// The header value: the text quoted, with <c>\</c> and <c>"</c> escaped, control characters dropped and anything
    /// beyond ASCII shown as <c>?</c> (Kestrel refuses other header bytes).
    /// </summary>
    public static string Format(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = new string([.. text.Where(c => !char.IsControl(c)).Select(c => c < 128 ? c : '?')]);
        return "299 - \"" + clean.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
