using Kwarm.Kubernetes;

namespace Kwarm.Tests.Runtime;

public sealed class JitteredBackoffTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Delays_double_within_their_jitter_band_and_never_pass_the_cap(double random)
    {
        var backoff = new JitteredBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), () => random);

        var delays = Enumerable.Range(0, 6).Select(_ => backoff.Next().TotalSeconds).ToArray();

        var ceilings = new[] { 1.0, 2, 4, 8, 8, 8 };
        for (var i = 0; i < ceilings.Length; i++)
        {
            Assert.Equal(ceilings[i] * (0.5 + (0.5 * random)), delays[i], precision: 6);
        }
    }

    [Fact]
    public void Reset_starts_again_from_the_initial_delay()
    {
        var backoff = new JitteredBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), () => 1.0);
        backoff.Next();
        backoff.Next();
        Assert.Equal(TimeSpan.FromSeconds(4), backoff.Next());

        backoff.Reset();

        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Next());
    }
}
