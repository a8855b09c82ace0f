namespace Kwarm.Simulator.Admission;

/// <summary>Who makes a request, as the webhook's AdmissionReview userInfo shows it.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups)
{
    public static UserInfo Admin { get; } = new("admin", ["system:masters", "system:authenticated"]);

    /// <summary>The identity of a service account's token (<c>system:serviceaccount:ns:name</c>).</summary>
    public static UserInfo ServiceAccount(string ns, string name) =>
        new($"system:serviceaccount:{ns}:{name}", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"]);

    /// <summary>
    /// The identity of a node's kubelet (the client certificate a kubelet's bootstrap gives it): what a webhook sees in
    /// userInfo when the kubelet registers its Node.
    /// </summary>
    public static UserInfo Node(string name) => new($"system:node:{name}", ["system:nodes", "system:authenticated"]);
}
