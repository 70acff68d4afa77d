using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>evaluate --leave-one-out on a model that kept each query's own id in its results.</summary>
public sealed class CliLeaveOneOutTests
{
    [Fact]
    public void LeaveOneOutDropsOwnId()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(60, 6, seed: 31);
        string csv = Path.Combine(folder, "collection.csv");
        VectorFile.WriteCsv(csv, collection);
        string excluded = Path.Combine(folder, "excluded.zip");
        string kept = Path.Combine(folder, "kept.zip");
        string excludedMetrics = Path.Combine(folder, "excluded.csv");
        string keptMetrics = Path.Combine(folder, "kept.csv");
        string[] input = ["--input", csv, "--id-column", "id", "--label-column", "label"];
        string[] queries = ["--queries", csv, "--id-column", "id", "--label-column", "label"];

        // k = 5 others with the query left out by the index, and k = 6 with the query itself kept in.
        CliHarness.AssertSuccess(CliHarness.Run(["index", .. input, "--k", "5", "--exclude-self", "--output", excluded]));
        CliHarness.AssertSuccess(CliHarness.Run(["index", .. input, "--k", "6", "--output", kept]));
        CliResult fromExcluded = CliHarness.Run(["evaluate", "-m", excluded, .. queries, "--recall", "1,5", "--per-query", excludedMetrics]);
        CliResult fromKept = CliHarness.Run(["evaluate", "-m", kept, .. queries, "--recall", "1,5", "--leave-one-out", "--per-query", keptMetrics]);

        CliHarness.AssertSuccess(fromExcluded);
        CliHarness.AssertSuccess(fromKept);
        Assert.Equal(File.ReadAllText(excludedMetrics), File.ReadAllText(keptMetrics));
    }
}
