using System.Text.Json;
using MLNetRetrieval.Cli;
using MLNetRetrieval.IO;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>bench --synthetic, --kmeans, --rerank and --repeat on tiny inputs.</summary>
public class CliBenchModeTests
{
    [Fact]
    public void SyntheticMatchesPeerGenerator()
    {
        // Bits computed from the generator spec with CPython, whose math.log, cos and sin call glibc as the C++ peer does.
        var (baseSet, queries) = BenchSynthetic.Generate(3, 2, 128);

        Assert.Equal(0x3F287586, BitConverter.SingleToInt32Bits(baseSet.Values[0]));
        Assert.Equal(0x3F394D79, BitConverter.SingleToInt32Bits(baseSet.Values[1]));
        Assert.Equal(0x3F397798, BitConverter.SingleToInt32Bits(baseSet.Values[127]));
        Assert.Equal(0x3E6B10FF, BitConverter.SingleToInt32Bits(baseSet.Values[(2 * 128) + 5]));
        Assert.Equal(0x3DCC05A2, BitConverter.SingleToInt32Bits(queries.Values[128]));
        Assert.Equal(0x3F21040B, BitConverter.SingleToInt32Bits(queries.Values[128 + 64]));
    }

    [Fact]
    public void SyntheticRejectsOddDimension()
    {
        CliResult bench = CliHarness.Run("bench", "--synthetic", "100", "--dimension", "7", "--types", "pq");

        CliHarness.AssertOneErrorLine(bench, "--dimension 7");
    }

    [Fact]
    public void SyntheticRerankRowsCompare()
    {
        CliResult bench = CliHarness.Run("bench", "--synthetic", "1500", "--dimension", "16", "--max-queries", "40",
            "--types", "ivf-pq", "--lists", "16", "--subquantizers", "4", "--rerank", "20", "--k", "20", "--probes", "1,16", "--repeat", "2", "--json");

        CliHarness.AssertSuccess(bench);
        using JsonDocument json = JsonDocument.Parse(bench.Output);
        JsonElement[] rows = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal([0, 0, 20, 20], rows.Select(r => r.GetProperty("rerank").GetInt32()));
        Assert.Equal(["1", "10"], rows[0].GetProperty("recallAt").EnumerateObject().Select(p => p.Name));
        // Re-ranking 20 exact candidates from all 16 lists finds at least as many true neighbors as PQ distances alone.
        Assert.True(rows[3].GetProperty("recall").GetDouble() >= rows[1].GetProperty("recall").GetDouble());
        Assert.True(json.RootElement.GetProperty("peakWorkingSetBytes").GetInt64() > 0);
    }

    [Fact]
    public void KMeansModeMatchesLibrary()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet vectors = CliHarness.GaussianVectors(400, 8, seed: 91);
        string fvecs = Path.Combine(folder, "points.fvecs");
        VectorFile.WriteFvecs(fvecs, vectors.Values, 8);

        CliResult bench = CliHarness.Run("bench", "--kmeans", "--base", fvecs, "--queries", fvecs, "--clusters", "12",
            "--iterations", "6", "--seed", "5", "--repeat", "2", "--json");

        CliHarness.AssertSuccess(bench);
        KMeansResult direct = KMeans.Train(vectors.Values, 400, 8, new KMeansOptions
        {
            NumberOfClusters = 12, MaxIterations = 6, Initialization = KMeansInitialization.Random, Seed = 5, Threads = 1,
        });
        using JsonDocument json = JsonDocument.Parse(bench.Output);
        JsonElement[] rows = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Equal(direct.Objective, rows[0].GetProperty("objective").GetDouble());
        Assert.Equal(direct.Objective, rows[1].GetProperty("objective").GetDouble());
    }
}
