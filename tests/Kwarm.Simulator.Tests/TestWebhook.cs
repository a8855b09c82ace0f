using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// A tiny HTTPS mutating webhook with its own CA, serving <c>name.namespace.svc</c> (or 127.0.0.1, for a
/// <c>clientConfig.url</c>), that records what it receives.
/// </summary>
internal sealed class TestWebhook : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private TestWebhook(WebApplication app, string caBundle, IPEndPoint endpoint)
    {
        _app = app;
        CaBundle = caBundle;
        Endpoint = endpoint;
    }

    public ConcurrentQueue<JsonObject> Reviews { get; } = new();

    /// <summary>base64 of the PEM of the CA that signed the webhook's certificate (the MutatingWebhookConfiguration caBundle).</summary>
    public string CaBundle { get; }

    public IPEndPoint Endpoint { get; }

    /// <summary>The JSON Patch operations to answer with (null: allow without patch).</summary>
    public JsonArray? Patch { get; set; }

    /// <summary>Computes the patch from the review (takes precedence over <see cref="Patch"/>).</summary>
    public Func<JsonObject, JsonArray?>? Responder { get; set; }

    public TimeSpan Delay { get; set; }

    /// <summary>The <c>response.warnings</c> to answer with.</summary>
    public IReadOnlyList<string> Warnings { get; set; } = [];

    public static async Task<TestWebhook> StartAsync(params string[] serviceHosts)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=test-webhook-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + serviceHosts[0], key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in serviceHosts)
        {
            // An IP address is what a webhook reached by clientConfig.url on 127.0.0.1 must present (the real lane's way).
            if (IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(12));
        using var withKey = signed.CopyWithPrivateKey(key);
        var serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(serving)));
        var app = builder.Build();
        var caBundle = Convert.ToBase64String(Encoding.ASCII.GetBytes(ca.ExportCertificatePem()));
        TestWebhook? webhook = null;
        app.Run(async context =>
        {
            var review = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
            webhook!.Reviews.Enqueue(review);
            if (webhook.Delay > TimeSpan.Zero)
            {
                await Task.Delay(webhook.Delay, context.RequestAborted);
            }

            var response = new JsonObject { ["uid"] = review["request"]!["uid"]!.GetValue<string>(), ["allowed"] = true };
            if (webhook.Warnings.Count > 0)
            {
                response["warnings"] = new JsonArray([.. webhook.Warnings.Select(warning => (JsonNode)warning)]);
            }

            if ((webhook.Responder is { } responder ? responder(review) : webhook.Patch) is { } patch)
            {
                response["patchType"] = "JSONPatch";
                response["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch.ToJsonString()));
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response }.ToJsonString(), context.RequestAborted);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        webhook = new TestWebhook(app, caBundle, new IPEndPoint(IPAddress.Loopback, new Uri(address).Port));
        return webhook;
    }

    /// <summary>Stops the server (a test may do so early to take the webhook down); later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
