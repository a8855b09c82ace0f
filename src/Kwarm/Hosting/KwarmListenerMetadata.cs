namespace Kwarm.Hosting;

/// <summary>Endpoint metadata: the endpoint answers only on connections accepted by this listener.</summary>
public sealed record KwarmListenerMetadata(KwarmListener Listener);
