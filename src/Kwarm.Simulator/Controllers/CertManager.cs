using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// A minimal cert-manager (<c>--cert-manager</c>), enough for an install that relies on it, such as
/// <c>deploy/kustomize/default</c>: the CRDs of <c>Issuer</c>, <c>ClusterIssuer</c> and <c>Certificate</c>
/// (cert-manager.io/v1); <c>selfSigned</c> and <c>ca</c> issuers; each Certificate issued into its TLS Secret
/// (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>) with its <c>commonName</c>, <c>dnsNames</c>, <c>isCA</c> and
/// <c>duration</c>, and marked Ready; and the CA injector's <c>cert-manager.io/inject-ca-from</c> for
/// MutatingWebhookConfigurations. Not simulated: ACME and other issuers, renewal, key rotation, CertificateRequests.
/// </summary>
public sealed partial class CertManager : Controller
{
    public const string Group = "cert-manager.io";
    public const string InjectCaFromAnnotation = "cert-manager.io/inject-ca-from";

    /// <summary>Where a ClusterIssuer's CA Secret lives, as cert-manager's default cluster resource namespace.</summary>
    public const string ClusterResourceNamespace = "cert-manager";

    /// <summary>Marks a Secret with what it was issued from, so that an unchanged Certificate is not issued again.</summary>
    private const string IssuedFromAnnotation = "cert-manager.io/simulated-issued-from";

    private const string AllCertificates = "all";
    private const string AllWebhooks = "inject-all";

    private readonly ResourceType _certificates;
    private readonly ResourceType _issuers;
    private readonly ResourceType _clusterIssuers;
    private readonly ResourceType _webhooks;

    public CertManager(SimulationContext context)
        : base(context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _certificates = context.Catalog.Get(Group, "certificates");
        _issuers = context.Catalog.Get(Group, "issuers");
        _clusterIssuers = context.Catalog.Get(Group, "clusterissuers");
        _webhooks = context.Catalog.Get("admissionregistration.k8s.io", "mutatingwebhookconfigurations");
    }

    /// <summary>Creates cert-manager's three CRDs (as its installation does) and serves their resources.</summary>
    public static void Install(ObjectStore store, ResourceCatalog catalog, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(time);
        var crdType = catalog.Get("apiextensions.k8s.io", "customresourcedefinitions");
        foreach (var (plural, kind, scope, columns) in new[]
        {
            ("issuers", "Issuer", "Namespaced", Columns(("Ready", ".status.conditions[0].status"))),
            ("clusterissuers", "ClusterIssuer", "Cluster", Columns(("Ready", ".status.conditions[0].status"))),
            ("certificates", "Certificate", "Namespaced", Columns(("Ready", ".status.conditions[0].status"), ("Secret", ".spec.secretName"))),
        })
        {
            var crd = new JsonObject
            {
                ["apiVersion"] = "apiextensions.k8s.io/v1",
                ["kind"] = "CustomResourceDefinition",
                ["metadata"] = new JsonObject { ["name"] = $"{plural}.{Group}" },
                ["spec"] = new JsonObject
                {
                    ["group"] = Group,
                    ["scope"] = scope,
                    ["names"] = new JsonObject { ["plural"] = plural, ["singular"] = kind.ToLowerInvariant(), ["kind"] = kind, ["listKind"] = kind + "List", ["categories"] = new JsonArray("cert-manager") },
                    ["versions"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "v1",
                        ["served"] = true,
                        ["storage"] = true,
                        ["subresources"] = new JsonObject { ["status"] = new JsonObject() },
                        ["additionalPrinterColumns"] = columns,
                        ["schema"] = new JsonObject
                        {
                            ["openAPIV3Schema"] = new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true },
                        },
                    }),
                },
            };
            store.Create(crdType, crd);
            catalog.Add(CustomResources.FromDefinition(crd)!);
        }
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var stored = change.Object;
        switch (stored.Type.StorageKey)
        {
            case "certificates.cert-manager.io" when change.Type != WatchEventType.Deleted:
                Enqueue("certificate:" + stored.Key);
                Enqueue(AllWebhooks);
                break;
            case "issuers.cert-manager.io" or "clusterissuers.cert-manager.io":
                Enqueue(AllCertificates);
                break;
            case "secrets":
                Enqueue(AllCertificates);
                Enqueue(AllWebhooks);
                break;
            case "mutatingwebhookconfigurations.admissionregistration.k8s.io" when change.Type != WatchEventType.Deleted:
                Enqueue("webhooks:" + stored.Name);
                break;
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key == AllCertificates)
        {
            foreach (var certificate in Store.List(_certificates, null).Items)
            {
                Issue(certificate);
            }
        }
        else if (key == AllWebhooks)
        {
            foreach (var configuration in Store.List(_webhooks, null).Items)
            {
                Inject(configuration.Name);
            }
        }
        else if (key.StartsWith("certificate:", StringComparison.Ordinal) && Resolve(key["certificate:".Length..], _certificates) is { } certificate)
        {
            Issue(certificate);
        }
        else if (key.StartsWith("webhooks:", StringComparison.Ordinal))
        {
            Inject(key["webhooks:".Length..]);
        }

        return Task.CompletedTask;
    }

    /// <summary>Issues the Certificate into its Secret when the issuer is ready and the Secret does not hold it yet.</summary>
    private void Issue(StoredObject stored)
    {
        if (stored.Deleting)
        {
            return;
        }

        var certificate = stored.ToNode();
        var secretName = certificate.Str("spec", "secretName");
        if (string.IsNullOrEmpty(secretName))
        {
            SetReady(_certificates, stored.Namespace, stored.Name, false, "MissingSecretName", "spec.secretName is required");
            return;
        }

        var signer = ResolveIssuer(stored.Namespace, certificate.Str("spec", "issuerRef", "name") ?? "", certificate.Str("spec", "issuerRef", "kind") ?? "Issuer");
        if (signer.Problem is { } problem)
        {
            SetReady(_certificates, stored.Namespace, stored.Name, false, "IssuerNotReady", problem);
            return;
        }

        var issuedFrom = SimulationContext.ShortHash(new JsonObject
        {
            ["spec"] = certificate["spec"]?.DeepClone(),
            ["issuer"] = signer.Authority?.Thumbprint ?? "self-signed",
        });
        var existing = Store.Get(Context.Secrets, stored.Namespace, secretName);
        if (existing?.ToNode().Str("metadata", "annotations", IssuedFromAnnotation) != issuedFrom)
        {
            var (certificatePem, keyPem, caPem, notAfter) = Create(certificate, signer.Authority);
            var data = new JsonObject
            {
                ["tls.crt"] = Base64(certificatePem),
                ["tls.key"] = Base64(keyPem),
                ["ca.crt"] = Base64(caPem),
            };
            var annotations = new JsonObject
            {
                ["cert-manager.io/certificate-name"] = stored.Name,
                ["cert-manager.io/issuer-name"] = certificate.Str("spec", "issuerRef", "name"),
                ["cert-manager.io/issuer-kind"] = certificate.Str("spec", "issuerRef", "kind") ?? "Issuer",
                [IssuedFromAnnotation] = issuedFrom,
            };
            if (existing is null)
            {
                Store.Create(Context.Secrets, new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Secret",
                    ["metadata"] = new JsonObject { ["name"] = secretName, ["namespace"] = stored.Namespace, ["annotations"] = annotations },
                    ["type"] = "kubernetes.io/tls",
                    ["data"] = data,
                });
            }
            else
            {
                Store.Mutate(Context.Secrets, stored.Namespace, secretName, secret =>
                {
                    var metadataAnnotations = secret.Metadata().Obj("annotations");
                    foreach (var (name, value) in annotations)
                    {
                        metadataAnnotations[name] = value?.DeepClone();
                    }

                    secret["data"] = data;
                    return true;
                });
            }

            Store.Mutate(_certificates, stored.Namespace, stored.Name, obj =>
            {
                var status = obj.Obj("status");
                status["notAfter"] = JsonPaths.Timestamp(notAfter);
                status["revision"] = (status.Long("revision") ?? 0) + 1;
                return true;
            });
        }

        SetReady(_certificates, stored.Namespace, stored.Name, true, "Ready", "Certificate is up to date and has not expired");
    }

    /// <summary>The CA that signs for an issuer (null for selfSigned), or why it cannot sign yet; sets the issuer's Ready condition.</summary>
    private (X509Certificate2? Authority, string? Problem) ResolveIssuer(string certificateNamespace, string name, string kind)
    {
        var (type, ns) = kind == "ClusterIssuer" ? (_clusterIssuers, "") : (_issuers, certificateNamespace);
        if (Store.Get(type, ns, name)?.ToNode() is not { } issuer)
        {
            return (null, $"{kind} \"{name}\" not found");
        }

        if (issuer.At("spec", "selfSigned") is not null)
        {
            SetReady(type, ns, name, true, "IsReady", "");
            return (null, null);
        }

        if (issuer.Str("spec", "ca", "secretName") is not { Length: > 0 } caSecret)
        {
            SetReady(type, ns, name, false, "ErrInitIssuer", "the simulator's cert-manager serves selfSigned and ca issuers only");
            return (null, $"{kind} \"{name}\" is neither selfSigned nor ca");
        }

        var secretNamespace = kind == "ClusterIssuer" ? ClusterResourceNamespace : ns;
        var secret = Store.Get(Context.Secrets, secretNamespace, caSecret)?.ToNode();
        if (secret?.Str("data", "tls.crt") is not { } crt || secret.Str("data", "tls.key") is not { } key)
        {
            var message = $"Error getting keypair for CA issuer: secret \"{caSecret}\" not found";
            SetReady(type, ns, name, false, "ErrGetKeyPair", message);
            return (null, message);
        }

        SetReady(type, ns, name, true, "KeyPairVerified", "Signing CA verified");
        return (X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(crt)), Encoding.ASCII.GetString(Convert.FromBase64String(key))), null);
    }

    private (string Certificate, string Key, string Authority, DateTimeOffset NotAfter) Create(JsonObject certificate, X509Certificate2? authority)
    {
        var spec = certificate.Obj("spec");
        var dnsNames = spec["dnsNames"] is JsonArray names ? names.Select(n => n?.ToString() ?? "").Where(n => n.Length > 0).ToList() : [];
        var commonName = spec.Str("commonName") ?? dnsNames.FirstOrDefault() ?? certificate.Str("metadata", "name") ?? "certificate";
        var isCa = spec.Bool("isCA") == true;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            isCa ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature : X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment,
            critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (!isCa)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        }

        if (dnsNames.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
            {
                san.AddDnsName(name);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        var now = Context.Time.GetUtcNow();
        var notBefore = now.AddMinutes(-1);
        var notAfter = now + (ParseDuration(spec.Str("duration")) ?? TimeSpan.FromDays(90));
        X509Certificate2 issued;
        if (authority is null)
        {
            issued = request.CreateSelfSigned(notBefore, notAfter);
        }
        else
        {
            if (notAfter > authority.NotAfter)
            {
                notAfter = authority.NotAfter;
            }

            issued = request.Create(authority, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
        }

        using (issued)
        {
            var pem = issued.ExportCertificatePem();
            return (pem, key.ExportPkcs8PrivateKeyPem(), authority?.ExportCertificatePem() ?? pem, notAfter);
        }
    }

    /// <summary>The CA injector: every webhook of a configuration annotated with <c>inject-ca-from: ns/certificate</c> trusts that Certificate's CA.</summary>
    private void Inject(string configurationName)
    {
        var from = Store.Get(_webhooks, "", configurationName)?.ToNode().Str("metadata", "annotations", InjectCaFromAnnotation);
        if (from?.Split('/') is not [var ns, var name]
            || Store.Get(_certificates, ns, name)?.ToNode().Str("spec", "secretName") is not { } secretName
            || Store.Get(Context.Secrets, ns, secretName)?.ToNode().Str("data", "ca.crt") is not { } caBundle)
        {
            return;
        }

        Store.Mutate(_webhooks, "", configurationName, configuration =>
        {
            var changed = false;
            foreach (var webhook in configuration.Objects("webhooks"))
            {
                var client = webhook.Obj("clientConfig");
                if (client.Str("caBundle") != caBundle)
                {
                    client["caBundle"] = caBundle;
                    changed = true;
                }
            }

            return changed;
        });
    }

    private void SetReady(ResourceType type, string ns, string name, bool ready, string reason, string message)
    {
        var status = ready ? "True" : "False";
        Store.Mutate(type, ns, name, obj =>
        {
            var current = obj.Objects("status", "conditions").FirstOrDefault(c => c.Str("type") == "Ready");
            if (current?.Str("status") == status && current.Str("reason") == reason && current.Str("message") == message)
            {
                return false;
            }

            obj.Obj("status")["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Ready",
                ["status"] = status,
                ["reason"] = reason,
                ["message"] = message,
                ["lastTransitionTime"] = Context.Now,
                ["observedGeneration"] = obj.Long("metadata", "generation") ?? 1,
            });
            return true;
        });
    }

    private static JsonArray Columns(params (string Name, string JsonPath)[] columns) =>
        new([.. columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = "string", ["jsonPath"] = c.JsonPath }),
            new JsonObject { ["name"] = "Age", ["type"] = "date", ["jsonPath"] = ".metadata.creationTimestamp" }]);

    private static string Base64(string text) => Convert.ToBase64String(Encoding.ASCII.GetBytes(text));

    /// <summary>A Go duration as cert-manager takes it (<c>2160h</c>, <c>90m</c>, <c>1h30m</c>); null when absent or unreadable.</summary>
    internal static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrEmpty(text) || !GoDuration().IsMatch(text))
        {
            return null;
        }

        var total = TimeSpan.Zero;
        foreach (Match part in GoDurationPart().Matches(text))
        {
            var value = double.Parse(part.Groups["value"].Value, CultureInfo.InvariantCulture);
            total += part.Groups["unit"].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        }

        return total;
    }

    [GeneratedRegex(@"^(\d+(\.\d+)?(h|ms|m|s))+$")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"(?<value>\d+(\.\d+)?)(?<unit>h|ms|m|s)")]
    private static partial Regex GoDurationPart();
}
