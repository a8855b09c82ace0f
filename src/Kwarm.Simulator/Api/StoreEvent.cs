namespace Kwarm.Simulator.Api;

/// <summary>One committed change. <see cref="Previous"/> lets selector-filtered watches turn moves into ADDED/DELETED.</summary>
public sealed record StoreEvent(WatchEventType Type, StoredObject Object, StoredObject? Previous)
{
    public long ResourceVersion => Object.ResourceVersion;

    public string TypeName => Type switch
    {
        WatchEventType.Added => "ADDED",
        WatchEventType.Modified => "MODIFIED",
        _ => "DELETED",
    };
}
