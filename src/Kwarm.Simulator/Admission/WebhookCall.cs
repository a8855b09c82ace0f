namespace Kwarm.Simulator.Admission;

/// <summary>
/// One call the API server made to an admission webhook: which webhook, the operation, when it was sent and how long
/// the answer took (request sent to response read), and whether an answer came back at all (a timeout or transport
/// error does not, whatever the failure policy then made of it).
/// </summary>
public sealed record WebhookCall(string Webhook, string Operation, string Namespace, string Name, DateTimeOffset SentAt, TimeSpan Duration, bool Answered);
