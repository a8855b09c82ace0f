using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary>The test-side renderer follows Helm where the chart relies on it, and refuses what it does not implement.</summary>
public sealed class ChartTemplateRendererTests : IDisposable
{
    private readonly DirectoryInfo _chart = Directory.CreateTempSubdirectory("kwarm-chart-");

    public ChartTemplateRendererTests()
    {
        Directory.CreateDirectory(Path.Combine(_chart.FullName, "templates"));
        File.WriteAllText(Path.Combine(_chart.FullName, "Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: \"4.5.6\"\n");
        File.WriteAllText(Path.Combine(_chart.FullName, "templates", "_helpers.tpl"), "{{- define \"demo.name\" -}}\n{{ .Chart.Name }}-{{ .Release.Name }}\n{{- end }}\n");
    }

    public void Dispose() => _chart.Delete(recursive: true);

    [Fact]
    public void Trim_markers_conditionals_includes_and_pipelines_render_as_helm_does()
    {
        var output = Render(
            """
            name: {{ include "demo.name" . }}
            {{- if .Values.on }}
            on: yes
            {{- else }}
            on: no
            {{- end }}
            {{- if not .Values.off }}
            off: {{ .Values.missingDefault | default "fallback" | quote }}
            {{- end }}
            port: {{ .Values.address | regexFind "[0-9]+$" }}
            labels:
              a: b
              {{- toYaml .Values.labels | nindent 2 }}
            """,
            new JsonObject { ["on"] = true, ["off"] = false, ["missingDefault"] = "", ["address"] = "127.0.0.1:9443", ["labels"] = new JsonObject { ["c"] = "d" } });

        Assert.Equal("name: demo-rel\non: yes\noff: \"fallback\"\nport: 9443\nlabels:\n  a: b\n  \"c\": \"d\"", output.TrimEnd());
    }

    [Fact]
    public void A_misspelt_value_path_fails_instead_of_rendering_nothing()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => Render("x: {{ .Values.replica }}", new JsonObject { ["replicas"] = 2 }));
        Assert.Contains(".Values.replica", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ range .Values.list }}x{{ end }}")]
    [InlineData("{{ .Values.list | upper }}")]
    [InlineData("{{ if .Values.list }}unclosed")]
    public void Constructs_outside_the_subset_are_refused(string template)
    {
        Assert.ThrowsAny<Exception>(() => Render(template, new JsonObject { ["list"] = new JsonArray("a") }));
    }

    private string Render(string template, JsonObject values)
    {
        var path = Path.Combine(_chart.FullName, "templates", "t.yaml");
        File.WriteAllText(path, template);
        return new ChartTemplateRenderer(_chart.FullName, values, "rel", "ns").RenderFile(path);
    }
}
