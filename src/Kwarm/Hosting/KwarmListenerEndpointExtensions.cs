namespace Kwarm.Hosting;

public static class KwarmListenerEndpointExtensions
{
    /// <summary>Serves the endpoints (or a whole route group) only on <paramref name="listener"/>'s port.</summary>
    public static TBuilder OnListener<TBuilder>(this TBuilder builder, KwarmListener listener)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new KwarmListenerMetadata(listener));
    }
}
