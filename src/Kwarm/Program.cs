using Kwarm.Hosting;

var launch = KwarmHost.Prepare(args, KwarmHost.ProcessEnvironment(), Console.Out, Console.Error);
if (launch.Builder is not { } builder)
{
    return launch.ExitCode;
}

// Components register here: the Kubernetes plumbing, the admission webhook (which provides the
// IServingCertificateSource the TLS listener asks for) and the controllers (as hosted services).

var app = builder.Build();
app.MapKwarmEndpoints(webhook =>
{
    // The admission webhook maps POST /mutate/deployments here; this group is served only on the TLS port.
});
return await app.RunKwarmAsync(Console.Error, CancellationToken.None).ConfigureAwait(false);
