using System.Net;
using Kwarm.Hosting;

namespace Kwarm.Tests.Hosting;

public sealed class BindAddressTests
{
    [Theory]
    [InlineData(":8080", null, 8080)]
    [InlineData("0.0.0.0:9443", "0.0.0.0", 9443)]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("[::1]:8081", "::1", 8081)]
    [InlineData("[::]:8081", "::", 8081)]
    [InlineData("localhost:8080", "127.0.0.1", 8080)]
    public void Parses_host_and_port(string text, string? host, int port)
    {
        Assert.True(BindAddress.TryParse(text, out var address));
        Assert.Equal(host is null ? null : IPAddress.Parse(host), address.Host);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("8080")]
    [InlineData(":")]
    [InlineData(":http")]
    [InlineData(":-1")]
    [InlineData(":65536")]
    [InlineData("::1:8080")]
    [InlineData("[127.0.0.1]:8080")]
    [InlineData("1:8080")]
    [InlineData("kwarm.example:8080")]
    [InlineData("http://0.0.0.0:8080")]
    public void Rejects_anything_else(string text) => Assert.False(BindAddress.TryParse(text, out _));

    [Theory]
    [InlineData(":8080")]
    [InlineData("10.0.0.1:9443")]
    [InlineData("[::1]:8081")]
    public void Round_trips_through_its_text(string text)
    {
        Assert.True(BindAddress.TryParse(text, out var address));
        Assert.Equal(text, address.ToString());
    }
}
