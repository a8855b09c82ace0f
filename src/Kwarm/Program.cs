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

return await builder.RunKwarmAsync(
    mapWebhook: webhook =>
    {
        // The admission webhook maps POST /mutate/deployments here: this group is served only on the TLS port.
    },
    Console.Error,
    CancellationToken.None).ConfigureAwait(false);
