using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using MLNetRetrieval.IO;
using MLNetRetrieval.Reports;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>The verify command and the --report option of evaluate and demo: metrics, written files and errors.</summary>
public sealed class CliVerifyTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void VerifyCsvMatchesLibraryEvaluator()
    {
        string folder = CliHarness.TempDirectory();
        (string csv, string labels) = WriteClusteredCsv(folder, count: 90, dimension: 6, seed: 11);
        string report = Path.Combine(folder, "report");

        CliResult result = CliHarness.Run("verify", "--vectors", csv, "--labels", labels, "--out", report,
            "--same-pairs", "150", "--different-pairs", "200", "--seed", "7", "--far", "0.2,5e-2,0.001",
            "--folds", "5", "--shuffle-folds", "--json");

        CliHarness.AssertSuccess(result);
        using JsonDocument json = JsonDocument.Parse(result.Output);
        JsonElement[] metrics = json.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, metrics.Length);
        VectorSet data = VectorFile.Read(csv, new VectorReadOptions { LabelsPath = labels });
        LabeledPair[] pairs = PairGenerator.Generate(data.Labels!, new PairSamplingOptions { SamePairCount = 150, DifferentPairCount = 200, Seed = 7 });
        var options = new VerificationEvaluatorOptions
        {
            FalseAcceptRates = [0.2, 0.05, 0.001],
            FoldCount = 5,
            FoldAssignment = FoldAssignment.Shuffled,
            Seed = 7,
        };
        PairScoreKind[] kinds = [PairScoreKind.Cosine, PairScoreKind.NegativeSquaredEuclidean];
        for (int m = 0; m < kinds.Length; m++)
        {
            VerificationReport expected = VerificationEvaluator.Evaluate(PairScorer.ScorePairs(data.Values, data.Dimension, pairs, kinds[m]), pairs, options);
            JsonElement actual = metrics[m];
            Assert.Equal(expected.AreaUnderRoc, actual.GetProperty("areaUnderRoc").GetDouble());
            Assert.Equal(expected.EqualErrorRate, actual.GetProperty("equalErrorRate").GetDouble());
            Assert.Equal(expected.EqualErrorThreshold, actual.GetProperty("equalErrorThreshold").GetSingle());
            Assert.Equal(expected.Accuracy!.Mean, actual.GetProperty("accuracy").GetProperty("mean").GetDouble());
            Assert.Equal(expected.Accuracy.StandardDeviation, actual.GetProperty("accuracy").GetProperty("standardDeviation").GetDouble());
            JsonElement[] points = actual.GetProperty("tarAtFar").EnumerateArray().ToArray();
            Assert.Equal(expected.TarAtFar.Select(p => p.TrueAcceptRate), points.Select(p => p.GetProperty("trueAcceptRate").GetDouble()));
            Assert.Equal(expected.TarAtFar.Select(p => p.FalseAcceptRate), points.Select(p => p.GetProperty("falseAcceptRate").GetDouble()));
            Assert.Equal(expected.TarAtFar.Select(p => p.BelowResolution), points.Select(p => p.GetProperty("belowResolution").GetBoolean()));
        }

        Assert.Equal("cosine", metrics[0].GetProperty("metric").GetString());
        Assert.Equal("l2", metrics[1].GetProperty("metric").GetString());
        Assert.Equal(150, json.RootElement.GetProperty("pairs").GetProperty("genuine").GetInt32());
        Assert.Equal(200, json.RootElement.GetProperty("pairs").GetProperty("impostor").GetInt32());
    }

    [Fact]
    public void VerifyMetricSelectsOneColumn()
    {
        string folder = CliHarness.TempDirectory();
        (string csv, string labels) = WriteClusteredCsv(folder, count: 40, dimension: 4, seed: 12);

        CliResult result = CliHarness.Run("verify", "--vectors", csv, "--labels", labels, "--out", Path.Combine(folder, "report"),
            "--same-pairs", "50", "--different-pairs", "50", "--folds", "0", "--metric", "l2", "--json");

        CliHarness.AssertSuccess(result);
        using JsonDocument json = JsonDocument.Parse(result.Output);
        JsonElement only = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("l2", only.GetProperty("metric").GetString());
        Assert.Equal(JsonValueKind.Null, only.GetProperty("accuracy").ValueKind);
    }

    [Fact]
    public void VerifyDefaultDataWritesFourFiles()
    {
        string report = Path.Combine(CliHarness.TempDirectory(), "report");

        CliResult result = CliHarness.Run("verify", "--same-pairs", "500", "--different-pairs", "500", "--out", report, "--quiet");

        CliHarness.AssertSuccess(result);
        AssertPng(Path.Combine(report, "roc.png"));
        AssertPng(Path.Combine(report, "precision_recall.png"));
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("<img src=\"roc.png\"", html, StringComparison.Ordinal);
        Assert.Contains("<img src=\"precision_recall.png\"", html, StringComparison.Ordinal);
        string table = File.ReadAllText(Path.Combine(report, "metrics.txt"));
        Assert.Contains("TAR@FAR=1e-4", table, StringComparison.Ordinal);
        Assert.Contains(table, result.Output, StringComparison.Ordinal);
        Assert.Contains("500 genuine + 500 impostor pairs", result.Output, StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public void VerifyVectorsWithoutLabelsIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        (string csv, _) = WriteClusteredCsv(folder, count: 20, dimension: 3, seed: 13);

        CliResult result = CliHarness.Run("verify", "--vectors", csv, "--out", Path.Combine(folder, "report"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--labels");
        Assert.False(Directory.Exists(Path.Combine(folder, "report")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("2")]
    [InlineData("-0.1")]
    [InlineData("0.1,ten")]
    public void VerifyBadFarIsUsageError(string rates)
    {
        CliResult result = CliHarness.Run("verify", "--far", rates, "--out", Path.Combine(CliHarness.TempDirectory(), "report"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--far");
    }

    [Fact]
    public void VerifyUnknownMetricIsUsageError()
    {
        CliResult result = CliHarness.Run("verify", "--metric", "manhattan", "--out", Path.Combine(CliHarness.TempDirectory(), "report"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "manhattan");
    }

    [Fact]
    public void VerifyTooManyPairsIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        (string csv, string labels) = WriteClusteredCsv(folder, count: 30, dimension: 3, seed: 14);

        // 30 vectors in 3 classes of 10 have 3 * 45 = 135 distinct same-label pairs.
        CliResult result = CliHarness.Run("verify", "--vectors", csv, "--labels", labels, "--same-pairs", "136", "--different-pairs", "10",
            "--out", Path.Combine(folder, "report"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--with-replacement");
    }

    [Fact]
    public void VerifyWithReplacementAllowsRepeats()
    {
        string folder = CliHarness.TempDirectory();
        (string csv, string labels) = WriteClusteredCsv(folder, count: 30, dimension: 3, seed: 14);

        CliResult result = CliHarness.Run("verify", "--vectors", csv, "--labels", labels, "--same-pairs", "200", "--different-pairs", "10",
            "--with-replacement", "--folds", "0", "--out", Path.Combine(folder, "report"), "--json");

        CliHarness.AssertSuccess(result);
        using JsonDocument json = JsonDocument.Parse(result.Output);
        Assert.Equal(200, json.RootElement.GetProperty("pairs").GetProperty("genuine").GetInt32());
    }

    [Fact]
    public void VerifyLabelCountMismatchIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        (string csv, string labels) = WriteClusteredCsv(folder, count: 30, dimension: 3, seed: 15);
        File.WriteAllLines(labels, File.ReadAllLines(labels)[..^1]);

        CliResult result = CliHarness.Run("verify", "--vectors", csv, "--labels", labels, "--same-pairs", "20", "--different-pairs", "20",
            "--out", Path.Combine(folder, "report"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, labels);
    }

    [Fact]
    public void VerifyMissingVectorsIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        (_, string labels) = WriteClusteredCsv(folder, count: 30, dimension: 3, seed: 16);
        string missing = Path.Combine(folder, "missing.csv");

        CliResult result = CliHarness.Run("verify", "--vectors", missing, "--labels", labels, "--same-pairs", "20", "--different-pairs", "20",
            "--out", Path.Combine(folder, "report"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, missing);
    }

    [Fact]
    public void VerifyCancelledExits130()
    {
        string report = Path.Combine(CliHarness.TempDirectory(), "report");
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        CliResult result = CliHarness.Run(cancellation.Token, "verify", "--same-pairs", "100", "--different-pairs", "100", "--out", report);

        Assert.Equal(130, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "cancelled");
        Assert.False(Directory.Exists(report));
    }

    [Fact]
    public void EvaluateReportWritesPlotAndPage()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(60, 5, seed: 17);
        string fvecs = Path.Combine(folder, "items.fvecs");
        VectorFile.WriteFvecs(fvecs, collection.Values, collection.Dimension);
        (string ids, string labels) = CliHarness.WriteCompanions(folder, collection);
        string model = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", fvecs, "--ids", ids, "--labels", labels, "--k", "59", "--exclude-self", "--output", model));
        string report = Path.Combine(folder, "report");

        CliResult result = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels,
            "--recall", "1,2,4,8,16,32", "--report", report);

        CliHarness.AssertSuccess(result);
        AssertPng(Path.Combine(report, RankingReportWriter.RecallPlotFileName));
        string html = File.ReadAllText(Path.Combine(report, RankingReportWriter.PageFileName));
        Assert.Contains("<img src=\"recall_at_r.png\"", html, StringComparison.Ordinal);
        Assert.Contains("Recall@32", html, StringComparison.Ordinal);
        Assert.Contains("Recall@32", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void DemoReportWritesPlotAndPage()
    {
        string report = Path.Combine(CliHarness.TempDirectory(), "report");

        CliResult result = CliHarness.Run("demo", "--limit", "200", "--report", report, "--json");

        CliHarness.AssertSuccess(result);
        AssertPng(Path.Combine(report, RankingReportWriter.RecallPlotFileName));
        string html = File.ReadAllText(Path.Combine(report, RankingReportWriter.PageFileName));
        Assert.Contains("<img src=\"recall_at_r.png\"", html, StringComparison.Ordinal);
        Assert.Contains("200 images", html, StringComparison.Ordinal);
    }

    /// <summary>
    /// Writes <paramref name="count"/> vectors in three classes of equal size ("c0" to "c2") as a CSV
    /// without a label column, and the labels as a text file. Each class is a seeded center plus noise,
    /// so scores separate the classes well but not perfectly.
    /// </summary>
    private static (string Csv, string Labels) WriteClusteredCsv(string folder, int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var centers = new float[3 * dimension];
        for (int i = 0; i < centers.Length; i++)
            centers[i] = (float)(4 * random.NextDouble() - 2);
        var values = new float[count * dimension];
        var labels = new string[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % 3;
            labels[i] = "c" + c.ToString(CultureInfo.InvariantCulture);
            for (int j = 0; j < dimension; j++)
                values[i * dimension + j] = centers[c * dimension + j] + (float)(1.5 * (random.NextDouble() - 0.5));
        }

        string csv = Path.Combine(folder, "vectors.csv");
        string labelsPath = Path.Combine(folder, "labels.txt");
        VectorFile.WriteCsv(csv, new VectorSet(values, count, dimension));
        File.WriteAllLines(labelsPath, labels);
        return (csv, labelsPath);
    }

    private static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, bytes.Take(PngSignature.Length));
        // IHDR is the first chunk; the width is big-endian at offset 16.
        Assert.Equal(ReportPlots.Width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
    }
}
