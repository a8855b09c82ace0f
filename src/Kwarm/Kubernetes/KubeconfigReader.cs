using k8s.KubeConfigModels;
using YamlDotNet.RepresentationModel;

namespace Kwarm.Kubernetes;

/// <summary>
/// Reads a kubeconfig file into KubernetesClient's <see cref="K8SConfiguration"/> by walking the YAML tree.
/// </summary>
/// <remarks>
/// KubernetesClient's own loader deserializes through reflection over metadata tokens, which a NativeAOT build of Kwarm
/// does not have: it fails with "There is no metadata token available" before the first API call. Walking the node tree
/// needs no reflection. Only the fields a controller uses are read — server, CA, TLS name and skip-verify; token, client
/// certificate and key (inline or as files), basic auth and exec plugins; contexts with their namespace — and anything
/// else is ignored, as kubectl ignores fields it does not use.
/// </remarks>
internal static class KubeconfigReader
{
    public static K8SConfiguration Read(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new InvalidOperationException($"{path} is not a YAML mapping");
        }

        return new K8SConfiguration
        {
            FileName = path,
            ApiVersion = Scalar(root, "apiVersion"),
            Kind = Scalar(root, "kind"),
            CurrentContext = Scalar(root, "current-context"),
            Clusters = Named(root, "clusters", "cluster", (name, cluster) => new Cluster
            {
                Name = name,
                ClusterEndpoint = new ClusterEndpoint
                {
                    Server = Scalar(cluster, "server"),
                    CertificateAuthority = Scalar(cluster, "certificate-authority"),
                    CertificateAuthorityData = Scalar(cluster, "certificate-authority-data"),
                    TlsServerName = Scalar(cluster, "tls-server-name"),
                    SkipTlsVerify = Flag(cluster, "insecure-skip-tls-verify"),
                },
            }),
            Users = Named(root, "users", "user", (name, user) => new User
            {
                Name = name,
                UserCredentials = new UserCredentials
                {
                    Token = Scalar(user, "token"),
                    ClientCertificate = Scalar(user, "client-certificate"),
                    ClientCertificateData = Scalar(user, "client-certificate-data"),
                    ClientKey = Scalar(user, "client-key"),
                    ClientKeyData = Scalar(user, "client-key-data"),
                    UserName = Scalar(user, "username"),
                    Password = Scalar(user, "password"),
                    ExternalExecution = Mapping(user, "exec") is { } exec ? ReadExec(exec) : null,
                },
            }),
            Contexts = Named(root, "contexts", "context", (name, context) => new Context
            {
                Name = name,
                ContextDetails = new ContextDetails
                {
                    Cluster = Scalar(context, "cluster"),
                    User = Scalar(context, "user"),
                    Namespace = Scalar(context, "namespace"),
                },
            }),
        };
    }

    private static ExternalExecution ReadExec(YamlMappingNode exec) => new()
    {
        ApiVersion = Scalar(exec, "apiVersion"),
        Command = Scalar(exec, "command"),
        Arguments = Sequence(exec, "args").OfType<YamlScalarNode>().Select(arg => arg.Value ?? "").ToList(),
        EnvironmentVariables = Sequence(exec, "env").OfType<YamlMappingNode>()
            .Select(variable => new Dictionary<string, string>
            {
                ["name"] = Scalar(variable, "name") ?? "",
                ["value"] = Scalar(variable, "value") ?? "",
            })
            .ToList(),
        InstallHint = Scalar(exec, "installHint"),
        ProvideClusterInfo = Flag(exec, "provideClusterInfo"),
    };

    private static List<T> Named<T>(YamlMappingNode root, string listKey, string bodyKey, Func<string?, YamlMappingNode, T> read) =>
        Sequence(root, listKey).OfType<YamlMappingNode>()
            .Select(entry => read(Scalar(entry, "name"), Mapping(entry, bodyKey) ?? new YamlMappingNode()))
            .ToList();

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { Length: > 0 } text }
            ? text
            : null;

    /// <summary>A YAML boolean; anything but true or false is an error that names the field (the factory reports it).</summary>
    private static bool Flag(YamlMappingNode node, string key) => Scalar(node, key) switch
    {
        null => false,
        var text when bool.TryParse(text, out var value) => value,
        var text => throw new InvalidOperationException($"{key} must be true or false, not '{text}'"),
    };

    private static YamlMappingNode? Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode : null;

    private static YamlSequenceNode Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence ? sequence : new YamlSequenceNode();
}
