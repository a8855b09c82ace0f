using Kwarm;
using Kwarm.Hosting;
using Kwarm.Kubernetes;

// Before anything touches the client: its JSON options freeze at their first use (see KwarmJson).
KwarmJson.ServeKubernetesClient();

return await KwarmApplication.RunAsync(args, KwarmHost.ProcessEnvironment(), Console.Out, Console.Error, CancellationToken.None)
    .ConfigureAwait(false);
