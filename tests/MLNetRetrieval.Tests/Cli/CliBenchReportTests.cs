using System.Globalization;
using System.Text.Json;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>bench: recall with padded results, an empty nprobe sweep, and the recall–throughput report.</summary>
public sealed class CliBenchReportTests
{
    [Fact]
    public void PaddingNeverCountsAsHit()
    {
        var (basePath, queryPath) = WriteInputs(baseCount: 40, queryCount: 5);

        CliResult result = CliHarness.Run("bench", "--base", basePath, "--queries", queryPath, "--types", "ivf-flat", "--lists", "4", "--probes", "1,4", "--k", "60", "--json", "--quiet");

        CliHarness.AssertSuccess(result);
        using JsonDocument json = JsonDocument.Parse(result.Output);
        double[] recalls = json.RootElement.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("recall").GetDouble()).ToArray();
        // k = 60 exceeds the 40 rows: one probe of four finds about a quarter, all four probes find all 40.
        Assert.True(recalls[0] < 0.9, $"recall with one probe of four lists is {recalls[0]}");
        Assert.Equal(1.0, recalls[1], 12);
    }

    [Fact]
    public void ProbesAboveListsIsUsageError()
    {
        var (basePath, queryPath) = WriteInputs(baseCount: 40, queryCount: 5);

        CliResult result = CliHarness.Run("bench", "--base", basePath, "--queries", queryPath, "--types", "ivf-flat", "--lists", "4", "--probes", "8", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("exceeds --lists 4", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public void ReportWritesPlotAndPage()
    {
        var (basePath, queryPath) = WriteInputs(baseCount: 300, queryCount: 10);
        string report = Path.Combine(CliHarness.TempDirectory(), "report");

        CliResult result = CliHarness.Run("bench", "--base", basePath, "--queries", queryPath, "--types", "ivf-flat,pq", "--lists", "8", "--subquantizers", "4", "--probes", "1,8", "--report", report, "--quiet");

        CliHarness.AssertSuccess(result);
        byte[] png = File.ReadAllBytes(Path.Combine(report, "recall_qps.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Contains("<img src=\"recall_qps.png\"", File.ReadAllText(Path.Combine(report, "index.html")));
    }

    private static (string Base, string Queries) WriteInputs(int baseCount, int queryCount)
    {
        string folder = CliHarness.TempDirectory();
        var random = new Random(71);
        string Rows(int count) => string.Join('\n', Enumerable.Range(0, count).Select(_ =>
            string.Join(',', Enumerable.Range(0, 8).Select(_ => random.NextDouble().ToString("R", CultureInfo.InvariantCulture)))));
        string basePath = Path.Combine(folder, "base.csv");
        string queryPath = Path.Combine(folder, "queries.csv");
        File.WriteAllText(basePath, Rows(baseCount));
        File.WriteAllText(queryPath, Rows(queryCount));
        return (basePath, queryPath);
    }
}
