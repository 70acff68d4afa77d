using System.Diagnostics;
using System.Globalization;
using MLNetRetrieval.IO;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Reports;

/// <summary>Settings of <see cref="VerificationReportRunner.Run"/>.</summary>
public sealed class VerificationRunOptions
{
    /// <summary>File name of the Fashion-MNIST test images (gzip-compressed IDX, 10000 × 28 × 28 uint8).</summary>
    public const string FashionMnistImagesFileName = "t10k-images-idx3-ubyte.gz";

    /// <summary>File name of the Fashion-MNIST test labels (gzip-compressed IDX, 10000 uint8).</summary>
    public const string FashionMnistLabelsFileName = "t10k-labels-idx1-ubyte.gz";

    /// <summary>Folder with the output files: the plots, the HTML page and the table as text. Required.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>
    /// Vector file to evaluate (any format <see cref="VectorFile.Read"/> accepts). Null uses the
    /// Fashion-MNIST test split: the copy in data/fashion-mnist/ below the application base directory
    /// (where the CLI build puts it), else Debian's /usr/share/datasets/fashion-mnist/.
    /// </summary>
    public string? VectorsPath { get; set; }

    /// <summary>Labels file, one label per vector (IDX, .npy or text). Required with <see cref="VectorsPath"/> unless the vector file has a label column.</summary>
    public string? LabelsPath { get; set; }

    /// <summary>Pair sampling: counts, seed and replacement. 6000 genuine and 6000 impostor pairs, seed 1, by default.</summary>
    public PairSamplingOptions Pairs { get; set; } = new();

    /// <summary>Metrics: FAR targets and folds. FAR 1e-1 to 1e-4 and 10 contiguous folds by default.</summary>
    public VerificationEvaluatorOptions Evaluation { get; set; } = new() { FalseAcceptRates = [1e-1, 1e-2, 1e-3, 1e-4] };

    /// <summary>Similarities to compare, one table column and curve each; cosine and negative squared L2 by default.</summary>
    public IReadOnlyList<PairScoreKind> Kinds { get; set; } = [PairScoreKind.Cosine, PairScoreKind.NegativeSquaredEuclidean];
}

/// <summary>Paths and results of one verification run.</summary>
/// <param name="Reports">Column title and report of each similarity.</param>
/// <param name="Table">The plain-text table that was printed.</param>
/// <param name="PagePath">The HTML page.</param>
/// <param name="PlotPaths">The PNG files.</param>
public sealed record VerificationRunResult(
    IReadOnlyList<(string Title, VerificationReport Report)> Reports,
    string Table,
    string PagePath,
    IReadOnlyList<string> PlotPaths);

/// <summary>
/// Evaluates verification on labelled vectors end to end: draws seeded balanced pairs from the
/// labels, scores them with each similarity, prints the metrics table and writes the ROC and
/// precision–recall plots with an HTML page.
/// </summary>
/// <remarks>
/// This is the body of the CLI's <c>verify</c> command. Output files in
/// <see cref="VerificationRunOptions.OutputDirectory"/>: <c>roc.png</c>, <c>precision_recall.png</c>,
/// <c>index.html</c> and <c>metrics.txt</c>.
/// </remarks>
public static class VerificationReportRunner
{
    /// <summary>File name of the ROC plot.</summary>
    public const string RocFileName = "roc.png";

    /// <summary>File name of the precision–recall plot.</summary>
    public const string PrecisionRecallFileName = "precision_recall.png";

    /// <summary>File name of the HTML page.</summary>
    public const string PageFileName = "index.html";

    /// <summary>File name of the plain-text table.</summary>
    public const string TableFileName = "metrics.txt";

    /// <summary>Runs the evaluation and writes the report.</summary>
    /// <param name="options">Data, pairs, metrics and output folder.</param>
    /// <param name="output">Receives progress lines and the table.</param>
    /// <param name="cancellationToken">Checked between the steps.</param>
    /// <returns>The reports and the paths written.</returns>
    /// <exception cref="ArgumentException">An option is invalid, or the labels do not allow the requested pairs.</exception>
    /// <exception cref="FileNotFoundException">The data files are missing.</exception>
    /// <exception cref="InvalidDataException">A data file is damaged.</exception>
    public static VerificationRunResult Run(VerificationRunOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        if (string.IsNullOrWhiteSpace(options.OutputDirectory))
            throw new ArgumentException("OutputDirectory is empty. Name the folder for the plots and the page.", nameof(options));
        if (options.Kinds is null || options.Kinds.Count == 0)
            throw new ArgumentException("Kinds is empty. Name at least one similarity.", nameof(options));

        var (vectorsPath, labelsPath) = ResolveData(options);
        VectorSet data = VectorFile.Read(vectorsPath, new VectorReadOptions { LabelsPath = labelsPath });
        if (data.Labels is null)
            throw new ArgumentException($"The vectors in {vectorsPath} have no labels. Give a labels file or a label column.", nameof(options));
        output.WriteLine(Invariant($"Data: {data.Count} vectors of dimension {data.Dimension} from {vectorsPath}"));

        LabeledPair[] pairs = PairGenerator.Generate(data.Labels, options.Pairs);
        output.WriteLine(Invariant($"Pairs: {pairs.Count(p => p.IsSame)} genuine + {pairs.Count(p => !p.IsSame)} impostor, seed {options.Pairs.Seed}, {(options.Pairs.WithReplacement ? "with" : "without")} replacement"));

        var reports = new List<(string Title, VerificationReport Report)>();
        foreach (PairScoreKind kind in options.Kinds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            float[] scores = PairScorer.ScorePairs(data.Values, data.Dimension, pairs, kind);
            VerificationReport report = VerificationEvaluator.Evaluate(scores, pairs, options.Evaluation);
            reports.Add((Title(kind), report));
            output.WriteLine(Invariant($"Scored and evaluated {Title(kind)} in {watch.Elapsed.TotalSeconds:F2} s"));
        }

        string table = VerificationReport.FormatTable(reports);
        output.WriteLine();
        output.Write(table);

        Directory.CreateDirectory(options.OutputDirectory);
        string rocPath = Path.Combine(options.OutputDirectory, RocFileName);
        string precisionRecallPath = Path.Combine(options.OutputDirectory, PrecisionRecallFileName);
        string dataName = Path.GetFileName(vectorsPath);
        ReportPlots.SaveRoc(rocPath, reports, $"Verification ROC: {dataName}, {pairs.Length} pairs");
        ReportPlots.SavePrecisionRecall(precisionRecallPath, reports, $"Verification precision–recall: {dataName}");
        File.WriteAllText(Path.Combine(options.OutputDirectory, TableFileName), table);
        string pagePath = Path.Combine(options.OutputDirectory, PageFileName);
        WritePage(pagePath, reports, table, vectorsPath, data, pairs, options);
        output.WriteLine();
        output.WriteLine($"Report: {pagePath}");
        return new VerificationRunResult(reports, table, pagePath, [rocPath, precisionRecallPath]);
    }

    /// <summary>Returns the column title of a similarity, as used in tables and legends.</summary>
    /// <param name="kind">The similarity.</param>
    /// <returns>"cosine" or "-L2²".</returns>
    public static string Title(PairScoreKind kind) => kind switch
    {
        PairScoreKind.Cosine => "cosine",
        PairScoreKind.NegativeSquaredEuclidean => "-L2²",
        _ => kind.ToString(),
    };

    private static (string Vectors, string? Labels) ResolveData(VerificationRunOptions options)
    {
        if (options.VectorsPath is not null)
            return (options.VectorsPath, options.LabelsPath);

        string[] folders =
        [
            Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist"),
            "/usr/share/datasets/fashion-mnist",
        ];
        foreach (string folder in folders)
        {
            string images = Path.Combine(folder, VerificationRunOptions.FashionMnistImagesFileName);
            string labels = Path.Combine(folder, VerificationRunOptions.FashionMnistLabelsFileName);
            if (File.Exists(images) && File.Exists(labels))
                return (images, labels);
        }

        throw new FileNotFoundException(
            $"Fashion-MNIST test files ({VerificationRunOptions.FashionMnistImagesFileName}, {VerificationRunOptions.FashionMnistLabelsFileName}) were not found in {string.Join(" or ", folders)}. Give VectorsPath and LabelsPath, or install Debian's dataset-fashion-mnist.",
            VerificationRunOptions.FashionMnistImagesFileName);
    }

    private static void WritePage(string path, List<(string Title, VerificationReport Report)> reports, string table,
        string vectorsPath, VectorSet data, LabeledPair[] pairs, VerificationRunOptions options)
    {
        var page = new HtmlReport("Verification report");
        page.AddParagraph(Invariant($"Data: {data.Count} vectors of dimension {data.Dimension} from {vectorsPath}."));
        page.AddParagraph(Invariant(
            $"Pairs: {pairs.Count(p => p.IsSame)} genuine (same label) and {pairs.Count(p => !p.IsSame)} impostor pairs, drawn with seed {options.Pairs.Seed}. ") +
            "Scores are higher for more similar pairs; a pair is accepted when its score is at or above the threshold.");

        var header = new List<string> { "Metric" };
        header.AddRange(reports.Select(r => r.Title));
        var rows = new List<IReadOnlyList<string>>();
        VerificationReport first = reports[0].Report;
        for (int i = 0; i < first.TarAtFar.Count; i++)
        {
            int index = i;
            rows.Add(Row($"TAR @ FAR = {first.TarAtFar[i].TargetFalseAcceptRate.ToString("0.#e+0", CultureInfo.InvariantCulture)}",
                reports.Select(r => Invariant($"{r.Report.TarAtFar[index].TrueAcceptRate:F4}") + (r.Report.TarAtFar[index].BelowResolution ? " (FAR = 0 point)" : ""))));
        }

        rows.Add(Row("EER", reports.Select(r => Invariant($"{r.Report.EqualErrorRate:F4}"))));
        rows.Add(Row("AUC", reports.Select(r => Invariant($"{r.Report.AreaUnderRoc:F4}"))));
        if (reports.All(r => r.Report.Accuracy is not null))
            rows.Add(Row(Invariant($"Accuracy, {first.Accuracy!.Folds.Count}-fold (mean ± std)"), reports.Select(r => Invariant($"{r.Report.Accuracy!.Mean:F4} ± {r.Report.Accuracy.StandardDeviation:F4}"))));
        page.AddTable("Verification metrics", header, rows);

        var thresholdRows = new List<IReadOnlyList<string>>();
        for (int i = 0; i < first.TarAtFar.Count; i++)
        {
            int index = i;
            thresholdRows.Add(Row($"FAR = {first.TarAtFar[i].TargetFalseAcceptRate.ToString("0.#e+0", CultureInfo.InvariantCulture)}",
                reports.Select(r => r.Report.TarAtFar[index].Threshold.ToString("G6", CultureInfo.InvariantCulture))));
        }

        thresholdRows.Add(Row("EER", reports.Select(r => r.Report.EqualErrorThreshold.ToString("G6", CultureInfo.InvariantCulture))));
        var thresholdHeader = new List<string> { "Operating point" };
        thresholdHeader.AddRange(reports.Select(r => r.Title));
        page.AddTable("Decision thresholds (accept when score ≥ threshold)", thresholdHeader, thresholdRows);
        page.AddImage(RocFileName, "ROC: true accept rate over false accept rate (log scale)");
        page.AddImage(PrecisionRecallFileName, "Precision over recall of the pair decisions");
        page.AddHeading("Table as printed");
        page.AddPreformatted(table);
        page.Save(path);
    }

    private static string[] Row(string name, IEnumerable<string> cells) => [name, .. cells];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
