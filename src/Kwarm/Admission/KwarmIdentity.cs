namespace Kwarm.Admission;

/// <summary>
/// The username Kwarm's own requests carry when it runs in the cluster. Its writes pass the webhook unchanged;
/// Kwarm's release is also recognised by content, so this is a shortcut, not the only safety net.
/// </summary>
public sealed record KwarmIdentity(string Username)
{
    public static KwarmIdentity ForServiceAccount(string @namespace, string serviceAccount) =>
        new($"system:serviceaccount:{@namespace}:{serviceAccount}");

    public bool Is(AdmissionUserInfo? user) =>
        user?.Username is { } name && string.Equals(name, Username, StringComparison.Ordinal);
}
