using System.Buffers.Binary;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Reports;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Reports;

/// <summary>Plots and pages are written as valid PNG and HTML files.</summary>
public sealed class ReportTests : IDisposable
{
    // A plot with axes, labels and a legend compresses to tens of kilobytes; an empty canvas to far less.
    private const long MinimumPngBytes = 10_000;

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnet-retrieval-reports-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    private static VerificationReport SyntheticReport(int seed, double separation)
    {
        var random = new Random(seed);
        var scores = new float[2000];
        var isSame = new bool[2000];
        for (int i = 0; i < scores.Length; i++)
        {
            isSame[i] = i % 2 == 0;
            scores[i] = (float)(random.NextDouble() + (isSame[i] ? separation : 0));
        }

        return VerificationEvaluator.Evaluate(scores, isSame);
    }

    private static RankingReport SyntheticRanking(double scale) => new(
        TieHandling.AsRanked, 100, 0, 0, [1, 10, 100], [1],
        [new MetricAtCutoff(1, 0.5 * scale), new MetricAtCutoff(10, 0.8 * scale), new MetricAtCutoff(100, 0.95 * scale)],
        [new MetricAtCutoff(1, 0.5 * scale)], 0.4 * scale, 0.3 * scale, []);

    private static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, bytes.Take(8));
        Assert.True(bytes.Length > MinimumPngBytes, $"{path} has only {bytes.Length} bytes");
        // IHDR is the first chunk: width and height are big-endian at offsets 16 and 20.
        Assert.Equal(ReportPlots.Width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(ReportPlots.Height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void RocPngIsValid()
    {
        string path = Path.Combine(_folder, "roc.png");

        ReportPlots.SaveRoc(path, [("strong", SyntheticReport(1, 0.6)), ("weak", SyntheticReport(2, 0.2))]);

        AssertPng(path);
    }

    [Fact]
    public void PrecisionRecallPngIsValid()
    {
        string path = Path.Combine(_folder, "pr.png");

        ReportPlots.SavePrecisionRecall(path, [("strong", SyntheticReport(1, 0.6))]);

        AssertPng(path);
    }

    [Fact]
    public void RecallAtRPngIsValid()
    {
        string path = Path.Combine(_folder, "recall.png");

        ReportPlots.SaveRecallAtR(path, [("raw pixels", SyntheticRanking(1.0)), ("other", SyntheticRanking(0.9))]);

        AssertPng(path);
    }

    [Fact]
    public void RecallQpsPngIsValid()
    {
        string path = Path.Combine(_folder, "qps.png");
        RecallQpsPoint[] points =
        [
            new("exact", 1.0, 900),
            new("IVF", 0.82, 20_000, "nprobe=1"),
            new("IVF", 0.95, 8_000, "nprobe=4"),
            new("IVF", 0.99, 3_000, "nprobe=16"),
        ];

        ReportPlots.SaveRecallQps(path, points, recallName: "Recall@10");

        AssertPng(path);
    }

    [Fact]
    public void RecallQpsRejectsZeroQps()
    {
        Assert.Throws<ArgumentException>(() => ReportPlots.SaveRecallQps(Path.Combine(_folder, "bad.png"), [new RecallQpsPoint("x", 0.5, 0)]));
    }

    [Fact]
    public void RankingPageLinksPlotAndTable()
    {
        string page = RankingReportWriter.Write(_folder, [("raw", SyntheticRanking(1.0))], notes: ["command: evaluate <x>"]);
        string html = File.ReadAllText(page);

        AssertPng(Path.Combine(_folder, RankingReportWriter.RecallPlotFileName));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<img src=\"recall_at_r.png\"", html);
        Assert.Contains("<table>", html);
        Assert.Contains("<th scope=\"row\">MAP@R</th><td>0.3000</td>", html);
        Assert.Contains("command: evaluate &lt;x&gt;", html);
    }

    [Fact]
    public void HtmlRowLengthChecked()
    {
        var page = new HtmlReport("t");

        Assert.Throws<ArgumentException>(() => page.AddTable("c", ["a", "b"], [new[] { "1" }]));
    }

    [Fact]
    public void FashionMnistRunWritesReport()
    {
        var output = new StringWriter();
        var options = new VerificationRunOptions
        {
            OutputDirectory = _folder,
            Pairs = new PairSamplingOptions { SamePairCount = 1000, DifferentPairCount = 1000, Seed = 1 },
        };

        VerificationRunResult result = VerificationReportRunner.Run(options, output);
        string html = File.ReadAllText(result.PagePath);

        Assert.All(result.PlotPaths, AssertPng);
        Assert.Contains("<img src=\"roc.png\"", html);
        Assert.Contains("<img src=\"precision_recall.png\"", html);
        Assert.Contains("<caption>Verification metrics</caption>", html);
        Assert.Contains("Accuracy (10-fold)", output.ToString());
        // Raw pixels separate Fashion-MNIST classes clearly but far from perfectly (AUC 0.80 on 12000 pairs).
        Assert.InRange(result.Reports[0].Report.AreaUnderRoc, 0.7, 0.9);
        Assert.Equal(result.Table, File.ReadAllText(Path.Combine(_folder, VerificationReportRunner.TableFileName)));
    }
}
