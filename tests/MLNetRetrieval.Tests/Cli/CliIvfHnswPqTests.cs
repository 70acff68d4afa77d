using System.Globalization;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>index --type ivf-hnsw-pq: IVF-PQ whose coarse centroids are searched through an HNSW graph.</summary>
public sealed class CliIvfHnswPqTests
{
    [Fact]
    public void AllProbesMatchExactCoarseIvfPq()
    {
        string folder = CliHarness.TempDirectory();
        string input = WriteVectors(folder, count: 600, seed: 81);
        string graphModel = Path.Combine(folder, "graph.zip");
        string exactModel = Path.Combine(folder, "exact.zip");
        string[] shared = ["--input", input, "--lists", "16", "--probes", "16", "--subquantizers", "4", "--seed", "5", "--k", "5"];

        CliResult graph = CliHarness.Run(["index", "--type", "ivf-hnsw-pq", "--ef", "64", .. shared, "--output", graphModel, "--quiet"]);
        CliResult exact = CliHarness.Run(["index", "--type", "ivf-pq", .. shared, "--output", exactModel, "--quiet"]);
        CliResult graphSearch = CliHarness.Run("search", "--model", graphModel, "--queries", input, "--output", "-", "--quiet");
        CliResult exactSearch = CliHarness.Run("search", "--model", exactModel, "--queries", input, "--output", "-", "--quiet");

        CliHarness.AssertSuccess(graph);
        CliHarness.AssertSuccess(exact);
        CliHarness.AssertSuccess(graphSearch);
        // With every list probed and a coarse beam of 64 over 16 centroids, the graph finds the same lists,
        // so the neighbors are the same. Distances agree to rounding only: the query-to-centroid term of the
        // precomputed tables comes from the graph's distance kernel instead of the GEMM.
        string[][] graphRows = Rows(graphSearch.Output);
        string[][] exactRows = Rows(exactSearch.Output);
        Assert.Equal(exactRows.Length, graphRows.Length);
        for (int i = 0; i < exactRows.Length; i++)
        {
            Assert.Equal(exactRows[i][..3], graphRows[i][..3]);
            double expected = double.Parse(exactRows[i][3], CultureInfo.InvariantCulture);
            double actual = double.Parse(graphRows[i][3], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(expected - actual) <= 1e-5 + (1e-4 * Math.Abs(expected)), $"row {i}: distance {actual} vs {expected}");
        }
    }

    [Fact]
    public void CosineIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        string input = WriteVectors(folder, count: 50, seed: 82);

        CliResult result = CliHarness.Run("index", "--type", "ivf-hnsw-pq", "--metric", "cosine", "--input", input, "--output", Path.Combine(folder, "m.zip"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("supports only --metric l2", Assert.Single(result.ErrorLines));
    }

    private static string[][] Rows(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')).ToArray();

    private static string WriteVectors(string folder, int count, int seed)
    {
        var random = new Random(seed);
        string path = Path.Combine(folder, "vectors.csv");
        File.WriteAllText(path, string.Join('\n', Enumerable.Range(0, count).Select(_ =>
            string.Join(',', Enumerable.Range(0, 8).Select(_ => random.NextDouble().ToString("R", CultureInfo.InvariantCulture))))));
        return path;
    }
}
