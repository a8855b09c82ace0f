using Kwarm.Resources;

namespace Kwarm.Admission;

/// <summary>
/// The PrePullPolicies the webhook decides from, fed by the PrePullPolicy informer so that no API call
/// happens on the admission path.
/// </summary>
public interface IPolicyCatalog
{
    /// <summary>An immutable snapshot, oldest policy first: safe to enumerate while the informer writes.</summary>
    IReadOnlyList<PrePullPolicy> Policies { get; }

    /// <summary>After a (re)list: the catalogue becomes exactly these policies.</summary>
    void Replace(IEnumerable<PrePullPolicy> policies);

    /// <summary>After an ADDED or MODIFIED watch event.</summary>
    void Upsert(PrePullPolicy policy);

    /// <summary>After a DELETED watch event. PrePullPolicies are cluster-scoped, so the name is the key.</summary>
    void Remove(string name);
}
