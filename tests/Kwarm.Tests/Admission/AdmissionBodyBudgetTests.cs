using Kwarm.Admission;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Admission;

/// <summary>The webhook's shared byte budget for request bodies, on fake time: grants, the queue, its bound, and giving memory back.</summary>
public sealed class AdmissionBodyBudgetTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new();
    private readonly List<long> _trims = [];
    private readonly AdmissionBodyBudget _budget;

    public AdmissionBodyBudgetTests()
    {
        _budget = new AdmissionBodyBudget(8 * MiB, Wait, _time, bytes => _trims.Add(bytes));
    }

    public void Dispose() => _budget.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1, 16)]
    [InlineData(18_735, 32 * 1024)]
    [InlineData(128 * 1024, 128 * 1024)]
    [InlineData((128 * 1024) + 1, 256 * 1024)]
    [InlineData(2_900_000, 3 * MiB)]
    [InlineData(3 * MiB, 3 * MiB)]
    public void A_body_takes_its_length_rounded_to_a_power_of_two_when_small_and_to_256_KiB_steps_when_large(int length, int share)
    {
        Assert.Equal(share, AdmissionBodyBudget.BufferSizeFor(length));
    }

    [Fact]
    public void The_budget_must_hold_at_least_one_body_of_the_largest_size()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdmissionBodyBudget((3 * MiB) - 1, Wait, _time));
    }

    [Fact]
    public async Task Rents_within_the_capacity_are_granted_at_once_and_counted_until_returned()
    {
        var large = await _budget.TryRentAsync(2_900_000, Wait, Token);
        var small = await _budget.TryRentAsync(18_735, Wait, Token);

        Assert.NotNull(large);
        Assert.True(large.Length >= 2_900_000);
        Assert.NotNull(small);
        Assert.Equal((3 * MiB) + (32 * 1024), _budget.BytesInUse);

        _budget.Return(large);
        _budget.Return(small);
        Assert.Equal(0, _budget.BytesInUse);
    }

    [Fact]
    public async Task A_rent_beyond_the_capacity_waits_and_is_granted_when_enough_comes_back()
    {
        var first = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;
        var second = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;

        var third = _budget.TryRentAsync(3 * MiB, Wait, Token).AsTask();
        Assert.False(third.IsCompleted);
        Assert.Equal(1, _budget.Waiting);

        _budget.Return(first);
        var granted = await third;

        Assert.NotNull(granted);
        Assert.Same(first, granted); // the returned large buffer is reused, not allocated anew
        Assert.Equal(0, _budget.Waiting);
        _budget.Return(second);
        _budget.Return(granted);
    }

    [Fact]
    public async Task A_rent_that_waits_longer_than_its_bound_gets_nothing_and_leaves_the_queue()
    {
        var held = (await _budget.TryRentAsync(8 * MiB, Wait, Token))!;
        var waiting = _budget.TryRentAsync(1024, Wait, Token).AsTask();

        _time.Advance(Wait - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Null(await waiting);
        Assert.Equal(0, _budget.Waiting);
        Assert.Equal(8 * MiB, _budget.BytesInUse);
        _budget.Return(held);
    }

    [Fact]
    public async Task The_queue_is_first_come_first_served_so_a_large_body_is_not_overtaken_by_small_ones()
    {
        var held = (await _budget.TryRentAsync(6 * MiB, Wait, Token))!;
        var large = _budget.TryRentAsync(3 * MiB, Wait, Token).AsTask();
        var small = _budget.TryRentAsync(1024, Wait, Token).AsTask();

        // 2 MiB are free, enough for the small one, but the large one came first.
        Assert.False(small.IsCompleted);
        Assert.Equal(2, _budget.Waiting);

        _budget.Return(held);
        var largeBuffer = await large;
        var smallBuffer = await small;

        Assert.NotNull(largeBuffer);
        Assert.NotNull(smallBuffer);
        _budget.Return(largeBuffer);
        _budget.Return(smallBuffer);
    }

    [Fact]
    public async Task When_the_head_of_the_queue_gives_up_the_next_one_that_fits_is_granted()
    {
        var held = (await _budget.TryRentAsync(6 * MiB, Wait, Token))!;
        var large = _budget.TryRentAsync(3 * MiB, Wait, Token).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        var small = _budget.TryRentAsync(1024, Wait, Token).AsTask();

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await large);
        var smallBuffer = await small;
        Assert.NotNull(smallBuffer);
        _budget.Return(smallBuffer);
        _budget.Return(held);
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_leaves_the_queue()
    {
        var held = (await _budget.TryRentAsync(8 * MiB, Wait, Token))!;
        using var client = new CancellationTokenSource();
        var waiting = _budget.TryRentAsync(1024, Wait, client.Token).AsTask();

        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, _budget.Waiting);
        _budget.Return(held);
        Assert.Equal(0, _budget.BytesInUse);
    }

    [Fact]
    public async Task Pooled_large_buffers_count_within_the_capacity_and_make_way_for_other_sizes()
    {
        var a = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;
        var b = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;
        _budget.Return(a);
        _budget.Return(b);
        Assert.Equal(6 * MiB, _budget.BytesPooled);

        // 7 MiB in use: only 1 MiB may stay pooled, so both 3 MiB buffers are dropped.
        var c = (await _budget.TryRentAsync(7 * MiB, Wait, Token))!;

        Assert.Equal(7 * MiB, _budget.BytesInUse);
        Assert.True(_budget.BytesInUse + _budget.BytesPooled <= _budget.CapacityBytes);
        _budget.Return(c);
    }

    [Fact]
    public async Task Pooled_buffers_are_dropped_once_the_webhook_has_been_idle_for_the_trim_delay()
    {
        var large = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;
        var other = (await _budget.TryRentAsync(1 * MiB, Wait, Token))!;
        _budget.Return(large);

        // Still busy: nothing is trimmed however long that lasts.
        _time.Advance(AdmissionBodyBudget.IdleTrimDelay * 2);
        Assert.Equal(3 * MiB, _budget.BytesPooled);
        Assert.Empty(_trims);

        _budget.Return(other);
        _time.Advance(AdmissionBodyBudget.IdleTrimDelay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(4 * MiB, _budget.BytesPooled);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(0, _budget.BytesPooled);
        Assert.Equal([4L * MiB], _trims);
    }

    [Fact]
    public async Task A_request_arriving_before_the_trim_keeps_the_pool_until_the_next_idle_period()
    {
        var large = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;
        _budget.Return(large);
        _time.Advance(AdmissionBodyBudget.IdleTrimDelay / 2);

        var again = (await _budget.TryRentAsync(3 * MiB, Wait, Token))!;
        Assert.Same(large, again);
        _time.Advance(AdmissionBodyBudget.IdleTrimDelay);
        Assert.Empty(_trims);

        _budget.Return(again);
        _time.Advance(AdmissionBodyBudget.IdleTrimDelay);
        Assert.Equal([3L * MiB], _trims);
    }

    [Fact]
    public async Task Small_buffers_come_from_the_shared_pool_and_are_never_kept_here()
    {
        var small = (await _budget.TryRentAsync(18_735, Wait, Token))!;
        _budget.Return(small);

        Assert.Equal(0, _budget.BytesPooled);
        _time.Advance(AdmissionBodyBudget.IdleTrimDelay);
        Assert.Empty(_trims);
    }
}
