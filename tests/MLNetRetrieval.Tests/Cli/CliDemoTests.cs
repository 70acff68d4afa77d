using System.Text.Json;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>The demo on the first 300 bundled Fashion-MNIST images, against a naive float64 evaluation.</summary>
public sealed class CliDemoTests
{
    private const int Images = 300;

    // Pixel values are integers, so near-neighbor distances are exact in float32 and the ranking
    // matches the float64 reference; far distances above 2^24 may round, which can reorder far items
    // and move AP slightly, hence the looser tolerance for mAP and MAP@R.
    private const double RecallTolerance = 1e-12;
    private const double AveragePrecisionTolerance = 1e-4;

    [Fact]
    public void DemoLimitMatchesNaiveMetrics()
    {
        CliResult demo = CliHarness.Run("demo", "--limit", "300", "--json");

        CliHarness.AssertSuccess(demo);
        using JsonDocument json = JsonDocument.Parse(demo.Output);
        JsonElement root = json.RootElement;
        NaiveRetrieval.Metrics expected = NaiveRetrieval.LeaveOneOut(FirstImages(), [1, 10, 100], []);
        Assert.Equal(Images, root.GetProperty("images").GetInt32());
        Assert.Equal(Images - 1, root.GetProperty("k").GetInt32());
        Assert.Equal(expected.RecallAt[0], root.GetProperty("recallAt").GetProperty("1").GetDouble(), RecallTolerance);
        Assert.Equal(expected.RecallAt[1], root.GetProperty("recallAt").GetProperty("10").GetDouble(), RecallTolerance);
        Assert.Equal(expected.RecallAt[2], root.GetProperty("recallAt").GetProperty("100").GetDouble(), RecallTolerance);
        Assert.Equal(expected.MeanAveragePrecision, root.GetProperty("meanAveragePrecision").GetDouble(), AveragePrecisionTolerance);
        Assert.Equal(expected.MapAtR, root.GetProperty("mapAtR").GetDouble(), AveragePrecisionTolerance);
        Assert.True(root.GetProperty("reloadIdentical").GetBoolean());
    }

    [Fact]
    public void DemoTransformRescoringIsIdentical()
    {
        CliResult demo = CliHarness.Run("demo", "--limit", "60", "--k", "20", "--scoring", "transform");

        CliHarness.AssertSuccess(demo);
        Assert.Contains("Reloaded model (transform scoring): identical results, 60 queries x 20 neighbor ids", demo.Output, StringComparison.Ordinal);
        Assert.Contains("MAP@R", demo.Output, StringComparison.Ordinal);
    }

    /// <summary>Reads the first images with ids 0..N-1 straight from the bundled files.</summary>
    private static VectorSet FirstImages()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist");
        VectorSet all = VectorFile.Read(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"),
            new VectorReadOptions { LabelsPath = Path.Combine(folder, "t10k-labels-idx1-ubyte.gz") });
        long[] ids = Enumerable.Range(0, Images).Select(i => (long)i).ToArray();
        return new VectorSet(all.Values[..(Images * all.Dimension)], Images, all.Dimension, ids, all.Labels![..Images]);
    }
}
