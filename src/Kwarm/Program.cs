using Kwarm;
using Kwarm.Hosting;

return await KwarmApplication.RunAsync(args, KwarmHost.ProcessEnvironment(), Console.Out, Console.Error, CancellationToken.None)
    .ConfigureAwait(false);
