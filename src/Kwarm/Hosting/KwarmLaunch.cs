namespace Kwarm.Hosting;

/// <summary>What <see cref="KwarmHost.Prepare"/> produced: a builder to add components to, or the exit code to leave with.</summary>
public sealed record KwarmLaunch(WebApplicationBuilder? Builder, int ExitCode);
