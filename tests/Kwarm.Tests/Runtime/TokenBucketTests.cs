using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Runtime;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_burst_is_free_then_each_token_waits_for_the_refill_rate()
    {
        var bucket = new TokenBucket(tokensPerSecond: 10, burst: 3, _time);

        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero], [bucket.Reserve(), bucket.Reserve(), bucket.Reserve()]);
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.Reserve());
        Assert.Equal(TimeSpan.FromMilliseconds(200), bucket.Reserve());

        // 200 ms pay back the two tokens owed; the next one is again 100 ms away.
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.Reserve());
    }

    [Fact]
    public void An_idle_bucket_refills_up_to_its_burst_and_no_further()
    {
        var bucket = new TokenBucket(tokensPerSecond: 10, burst: 2, _time);
        bucket.Reserve();
        bucket.Reserve();

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.Reserve());
    }
}
