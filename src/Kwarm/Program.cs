using Kwarm.Admission;
using Kwarm.Kubernetes;
using Kwarm.Hosting;

var launch = KwarmHost.Prepare(args, KwarmHost.ProcessEnvironment(), Console.Out, Console.Error);
if (launch.Builder is not { } builder)
{
    return launch.ExitCode;
}

// Components register here, each with one line: the Kubernetes plumbing (client, informers, leader election),
// the admission webhook (which also registers the IServingCertificateSource the TLS listener asks on every
// handshake) and the controllers, as leader-only workers.
builder.Services.AddKwarmKubernetes();
builder.Services.AddKwarmAdmission();
builder.Services.AddPolicyCatalogFeed();

return await builder.RunKwarmAsync(
    mapWebhook: webhook => webhook.MapKwarmAdmission(),
    Console.Error,
    CancellationToken.None).ConfigureAwait(false);
