using Kwarm.Benchmarks;

return await BenchmarkCommandLine.RunAsync(args, Console.Out, CancellationToken.None).ConfigureAwait(false);
