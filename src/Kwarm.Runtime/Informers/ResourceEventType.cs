namespace Kwarm.Runtime;

public enum ResourceEventType
{
    Added,
    Updated,
    Deleted,
}
