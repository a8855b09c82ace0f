
namespace Kwarm.Pulling;

public enum AttemptState
{
    /// <summary>Neither pulled nor failed yet.</summary>
    Running,
    Pulled,
    Failed,
    TimedOut,
}
