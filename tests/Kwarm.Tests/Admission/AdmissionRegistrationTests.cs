using Kwarm.Admission;
using Kwarm.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kwarm.Tests.Admission;

/// <summary>What <c>AddKwarmAdmission</c> hands to the host and to the PrePullPolicy informer.</summary>
public sealed class AdmissionRegistrationTests
{
    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.ClearProviders());
        configure(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void Informer_and_webhook_share_one_catalogue()
    {
        using var provider = Build(services => services.AddKwarmAdmission());

        var catalog = provider.GetRequiredService<IPolicyCatalog>();
        catalog.Upsert(AdmissionFixtures.Policy(name: "seen-by-the-webhook"));

        Assert.Same(provider.GetRequiredService<InMemoryPolicyCatalog>(), catalog);
        var outcome = provider.GetRequiredService<AdmissionReviewer>().Review(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage));
        Assert.Equal("seen-by-the-webhook", outcome.Decision!.PolicyName);
    }

    [Fact]
    public void Identity_comes_from_the_namespace_and_service_account_flags()
    {
        using var provider = Build(services => services
            .Configure<KwarmOptions>(options => (options.Namespace, options.ServiceAccountName) = ("platform", "kwarm-operator"))
            .AddKwarmAdmission());

        Assert.Equal("system:serviceaccount:platform:kwarm-operator", provider.GetRequiredService<KwarmIdentity>().Username);
    }

    [Fact]
    public void Certificate_source_is_one_hosted_singleton_even_when_added_twice()
    {
        using var provider = Build(services => services.AddKwarmAdmission().AddKwarmAdmission());

        var source = provider.GetRequiredService<IServingCertificateSource>();
        var hosted = provider.GetServices<IHostedService>().ToList();

        Assert.IsType<FileServingCertificateSource>(source);
        Assert.Same(source, Assert.Single(hosted));
    }
}
