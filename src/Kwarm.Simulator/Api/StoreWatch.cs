using System.Threading.Channels;

namespace Kwarm.Simulator.Api;

/// <summary>A store watch: a channel of committed events for one resource (optionally one namespace).</summary>
public sealed class StoreWatch : IDisposable
{
    private readonly ObjectStore _store;
    // Not SingleReader: only the multi-reader channel can Count, which a bookmark needs to prove nothing is pending.
    private readonly Channel<StoreEvent> _channel = Channel.CreateUnbounded<StoreEvent>(new UnboundedChannelOptions { SingleReader = false });
    private readonly ResourceType _type;
    private readonly string? _namespace;

    internal StoreWatch(ObjectStore store, ResourceType type, string? ns)
    {
        _store = store;
        _type = type;
        _namespace = string.IsNullOrEmpty(ns) ? null : ns;
    }

    public ChannelReader<StoreEvent> Events => _channel.Reader;

    internal void Offer(StoreEvent change)
    {
        if (change.Object.Type.StorageKey != _type.StorageKey)
        {
            return;
        }

        if (_namespace is not null && change.Object.Namespace != _namespace)
        {
            return;
        }

        _channel.Writer.TryWrite(change);
    }

    public void Dispose()
    {
        _store.Unwatch(this);
        _channel.Writer.TryComplete();
    }
}
