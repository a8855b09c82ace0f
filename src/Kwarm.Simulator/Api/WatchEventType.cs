namespace Kwarm.Simulator.Api;

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
}
