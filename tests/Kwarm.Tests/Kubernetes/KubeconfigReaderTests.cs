using System.Text.Json;
using k8s;
using Kwarm.Kubernetes;

namespace Kwarm.Tests.Kubernetes;

/// <summary>
/// Kwarm's reflection-free kubeconfig reader (the native binary's only way to read one) against KubernetesClient's own
/// loader, over every field the reader claims to read.
/// </summary>
public sealed class KubeconfigReaderTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kwarm-kubeconfig-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Reads_what_the_client_reads()
    {
        var path = Write("""
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
            - name: prod
              cluster:
                server: https://prod.example.com:6443
                certificate-authority-data: Q0EtREFUQQ==
                tls-server-name: api.prod.internal
            - name: dev
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority: certs/ca.crt
                insecure-skip-tls-verify: true
            users:
            - name: token-user
              user:
                token: abc.def
            - name: cert-user
              user:
                client-certificate: certs/client.crt
                client-key: certs/client.key
            - name: inline-cert-user
              user:
                client-certificate-data: Q0VSVA==
                client-key-data: S0VZ
            - name: basic-user
              user:
                username: admin
                password: s3cret
            - name: exec-user
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: aws
                  args: [eks, get-token, --cluster-name, prod]
                  env:
                  - name: AWS_PROFILE
                    value: prod
                  installHint: install the aws CLI
                  provideClusterInfo: true
            contexts:
            - name: prod
              context:
                cluster: prod
                user: exec-user
                namespace: kwarm-system
            - name: dev
              context:
                cluster: dev
                user: token-user
            """);

        var byKwarm = KubeconfigReader.Read(path);
        var byClient = KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(path));

        Assert.Equal(JsonSerializer.Serialize(byClient), JsonSerializer.Serialize(byKwarm));
        Assert.Equal(5, byKwarm.Users.Count());
        Assert.Equal(["eks", "get-token", "--cluster-name", "prod"], byKwarm.Users.Single(user => user.Name == "exec-user").UserCredentials.ExternalExecution.Arguments);
    }

    [Fact]
    public void Builds_the_same_client_configuration_from_a_token_kubeconfig()
    {
        var path = Write("""
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster:
                server: https://127.0.0.1:7443
                insecure-skip-tls-verify: true
            users:
            - name: me
              user:
                token: t0ken
            contexts:
            - name: local
              context:
                cluster: local
                user: me
                namespace: shop
            current-context: local
            """);

        var byKwarm = KubernetesClientConfiguration.BuildConfigFromConfigObject(KubeconfigReader.Read(path));
        var byClient = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);

        Assert.Equal(byClient.Host, byKwarm.Host);
        Assert.Equal("t0ken", byKwarm.AccessToken);
        Assert.Equal(byClient.AccessToken, byKwarm.AccessToken);
        Assert.Equal("shop", byKwarm.Namespace);
        Assert.True(byKwarm.SkipTlsVerify);
        Assert.Equal(byClient.CurrentContext, byKwarm.CurrentContext);
    }

    [Fact]
    public void Fields_it_does_not_use_are_ignored_and_a_non_mapping_is_an_error()
    {
        var path = Write("""
            apiVersion: v1
            kind: Config
            preferences: {colors: true}
            clusters:
            - name: c
              cluster:
                server: https://c.example.com
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension: {audience: x}
            users: []
            contexts: []
            """);
        var config = KubeconfigReader.Read(path);
        Assert.Equal("https://c.example.com", config.Clusters.Single().ClusterEndpoint.Server);
        Assert.Empty(config.Users);

        var error = Assert.Throws<InvalidOperationException>(() => KubeconfigReader.Read(Write("- just\n- a list\n")));
        Assert.Contains("is not a YAML mapping", error.Message, StringComparison.Ordinal);

        var notBoolean = Assert.Throws<InvalidOperationException>(() => KubeconfigReader.Read(Write("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n")));
        Assert.Equal("insecure-skip-tls-verify must be true or false, not 'maybe'", notBoolean.Message);
    }

    private string Write(string text)
    {
        var path = Path.Combine(_directory.FullName, $"config-{Guid.NewGuid():N}");
        File.WriteAllText(path, text);
        return path;
    }
}
