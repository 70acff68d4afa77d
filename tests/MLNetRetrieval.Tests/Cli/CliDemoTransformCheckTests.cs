using System.Text.Json;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>The demo's default batch rescoring also runs a sample through the reloaded model's ML.NET Transform.</summary>
public sealed class CliDemoTransformCheckTests
{
    [Fact]
    public void BatchDemoChecksTransformSample()
    {
        CliResult demo = CliHarness.Run("demo", "--limit", "600", "--k", "10", "--json");

        CliHarness.AssertSuccess(demo);
        using JsonDocument json = JsonDocument.Parse(demo.Output);
        JsonElement root = json.RootElement;
        Assert.Equal("batch", root.GetProperty("rescoring").GetString());
        Assert.Equal(500, root.GetProperty("transformCheckedQueries").GetInt32());
        Assert.True(root.GetProperty("transformIdentical").GetBoolean());
    }

    [Fact]
    public void SmallDemoChecksEveryImage()
    {
        CliResult demo = CliHarness.Run("demo", "--limit", "60", "--k", "20");

        CliHarness.AssertSuccess(demo);
        Assert.Contains("Reloaded model (ML.NET Transform): identical results for the first 60 queries x 20 neighbor ids", demo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TransformDemoSkipsSecondCheck()
    {
        CliResult demo = CliHarness.Run("demo", "--limit", "60", "--k", "20", "--scoring", "transform", "--json");

        CliHarness.AssertSuccess(demo);
        using JsonDocument json = JsonDocument.Parse(demo.Output);
        Assert.Equal(0, json.RootElement.GetProperty("transformCheckedQueries").GetInt32());
    }
}
