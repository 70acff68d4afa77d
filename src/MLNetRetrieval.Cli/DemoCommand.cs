using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML;
using MLNetRetrieval.Cli.Images;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>demo</c>: leave-one-out retrieval on the bundled Fashion-MNIST test split. Every image is both a
/// collection item and a query, and is ranked against all other images by squared L2 over
/// raw pixels. The model is then saved, reloaded in a fresh context and rescored.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Folder of the bundled data beside the executable; the CLI project copies examples/data/** to data/.</summary>
    internal const string DataFolder = "data/fashion-mnist";
    internal const string ImagesFile = "t10k-images-idx3-ubyte.gz";
    internal const string LabelsFile = "t10k-labels-idx1-ubyte.gz";

    private static readonly int[] RecallCutoffs = [1, 10, 100];

    /// <summary>
    /// Images that the reloaded model's ML.NET Transform rescores after a batch rescoring, so the demo also
    /// checks the saved ML.NET chain. One row costs a full exact search (k = 9999 by default), so the
    /// sample keeps the default demo fast.
    /// </summary>
    private const int TransformCheckImages = 500;

    public static Command Create(CliContext context)
    {
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Model zip to write and keep. Default: a file in a new temporary folder, deleted at the end.",
            HelpName = "FILE",
        };
        Option<int?> k = CliCommands.CreateKOption("Neighbors per query (k). Default: images - 1, the full ranking, so mAP covers every other image.");
        var limit = new Option<int?>("--limit")
        {
            Description = "Use only the first N images (2 to 10000) as collection and queries; the exact search costs N x N x 784 multiply-adds.",
            HelpName = "N",
            CustomParser = result => CliCommands.ParseInteger(result, 2, 10000, "--limit must be an integer from 2 to 10000 images"),
        };
        Option<string> scoring = CliCommands.CreateChoice("--scoring",
            $"How the reloaded model rescores the images: 'transform' runs its ML.NET Transform one row at a time; 'batch' (and 'auto') call the index's batch search on --threads threads, and then the Transform rescores the first {TransformCheckImages} images too. The first scoring always uses the batch search.",
            "auto", "auto", "transform", "batch");
        Option<int> threads = CliContext.CreateThreadsOption("indexing and batch scoring");
        Option<string?> reportFolder = CliCommands.CreateRankingReportOption();
        var images = new Option<bool>("--images")
        {
            Description = $"Run image retrieval instead, on the bundled clip-art sample ({ImageDemoCommand.SampleFolder} beside the executable, labels from the category folders): embed the images with ResNet18, index them, save and reload the model zip, embed the images again with the reloaded model as queries, search leave-one-out and evaluate.",
        };

        var command = new Command("demo", "Leave-one-out retrieval on the bundled Fashion-MNIST test split (10000 images): index, score, evaluate, save, reload and rescore. With --images: the same on a bundled sample of clip-art images.");
        command.Add(output);
        command.Add(k);
        command.Add(limit);
        command.Add(scoring);
        command.Add(threads);
        command.Add(reportFolder);
        command.Add(images);
        command.SetAction(parse =>
        {
            if (!parse.GetValue(images))
            {
                return Run(context, parse.GetValue(output), parse.GetValue(k), parse.GetValue(limit),
                    CliCommands.ParseScoring(parse.GetValue(scoring)!), parse.GetValue(threads), parse.GetValue(reportFolder), parse.GetValue(context.Json));
            }

            if (new Option[] { limit, scoring }.FirstOrDefault(option => parse.GetResult(option) is { Implicit: false }) is { } stray)
                throw new UsageException($"{stray.Name} applies to the Fashion-MNIST demo only, not to demo --images; drop {stray.Name}.");
            return ImageDemoCommand.Run(context, parse.GetValue(output), parse.GetValue(k), parse.GetValue(threads), parse.GetValue(reportFolder), parse.GetValue(context.Json));
        });
        return command;
    }

    /// <summary>Reads the bundled images (pixel values 0 to 255 as floats) with labels "0" to "9" and ids 0 to N − 1.</summary>
    /// <exception cref="FileNotFoundException">The data files are not beside the executable.</exception>
    internal static VectorSet ReadImages(int? limit)
    {
        // NOTE: MLNetRetrieval.IO.EmbeddedData locates the same files, but it is internal to the library.
        string folder = Path.Combine(AppContext.BaseDirectory, DataFolder);
        string images = Path.Combine(folder, ImagesFile);
        string labels = Path.Combine(folder, LabelsFile);
        if (!File.Exists(images) || !File.Exists(labels))
            throw new FileNotFoundException($"Bundled Fashion-MNIST data not found in {folder}. The build copies examples/data/** there; rebuild the CLI project.", images);

        VectorSet all = VectorFile.Read(images, new VectorReadOptions { LabelsPath = labels });
        int count = Math.Min(limit ?? all.Count, all.Count);
        var ids = new long[count];
        for (int i = 0; i < count; i++)
            ids[i] = i;
        float[] values = count == all.Count ? all.Values : all.Values.AsSpan(0, checked(count * all.Dimension)).ToArray();
        return new VectorSet(values, count, all.Dimension, ids, all.Labels![..count], images);
    }

    private static int Run(CliContext context, string? outputPath, int? requestedK, int? limit, ScoringPath scoring, int threads, string? reportFolder, bool json)
    {
        CliConsole console = context.Console;
        CancellationToken cancellation = context.CancellationToken;
        var timings = new List<DemoStep>();
        var total = Stopwatch.StartNew();
        var clock = Stopwatch.StartNew();

        string? temporaryFolder = outputPath is null ? Directory.CreateTempSubdirectory("mlnet-retrieval-demo-").FullName : null;
        try
        {
            using var zip = new AtomicFile(outputPath ?? Path.Combine(temporaryFolder!, "fashion-mnist-exact.zip"));
            VectorSet images = ReadImages(limit);
            int k = requestedK ?? images.Count - 1;
            Lap("read", "read", clock, timings);

            var ml = new MLContext(seed: 1);
            IDataView view = VectorViews.Create(ml, images);
            var options = new ExactIndexingEstimator.Options
            {
                FeatureColumnName = VectorViews.FeatureColumn,
                IdColumnName = VectorViews.IdColumn,
                LabelColumnName = VectorViews.LabelColumn,
                NumberOfNeighbors = k,
                Metric = Indexes.DistanceMetric.SquaredEuclidean,
                ExcludeSelf = true,
                NumberOfThreads = threads,
                CancellationToken = cancellation,
            };
            NeighborSearchingTransformer model = console.RunWithProgress("Indexing", 1, sink =>
            {
                NeighborSearchingTransformer fitted = ml.Retrieval().IndexExact(options).Fit(view);
                sink.Advance(1);
                return fitted;
            });
            Lap("index", "index", clock, timings);

            long[] ids = images.Ids!;
            var digests = new byte[images.Count][];
            RankingReport report = console.RunWithProgress("Scoring and evaluating", images.Count, sink =>
            {
                IEnumerable<ScoredQuery> scored = Digest(QueryScoring.InBatches(model.Searcher, images, ids, k, threads, cancellation), digests, null, sink);
                var metrics = new RankingEvaluatorOptions { RecallCutoffs = RecallCutoffs, PrecisionCutoffs = [] };
                return RankingEvaluator.Evaluate(QueryJudging.ByLabels(scored, model.Searcher, images.Labels!, leaveOneOut: true), metrics, cancellation);
            });
            Lap("scoreAndEvaluate", "score + evaluate", clock, timings);

            ml.Model.Save(model, view.Schema, zip.TemporaryPath);
            zip.Commit();
            long zipBytes = new FileInfo(zip.Path).Length;
            Lap("save", "save", clock, timings);

            var freshContext = new MLContext(seed: 2);
            ModelFile reloaded = ModelFile.Load(freshContext, zip.Path);
            Lap("load", "load", clock, timings);

            ScoringPath rescoring = QueryScoring.Resolve(reloaded, scoring);
            int firstDifference = console.RunWithProgress($"Rescoring ({rescoring.ToString().ToLowerInvariant()})", images.Count, sink =>
            {
                var mismatch = new int[] { -1 };
                IEnumerable<ScoredQuery> rescored = QueryScoring.Score(freshContext, reloaded, images, images.Source, k, rescoring, threads, cancellation);
                foreach (ScoredQuery unused in Digest(rescored, digests, mismatch, sink))
                {
                }

                return mismatch[0];
            });
            Lap("rescore", "rescore", clock, timings);

            // Batch rescoring bypasses ML.NET, so a sample also goes through the reloaded model's Transform.
            int transformChecked = 0;
            int transformDifference = -1;
            if (rescoring != ScoringPath.Transform)
            {
                VectorSet sample = FirstImages(images, TransformCheckImages);
                transformDifference = console.RunWithProgress("Checking the Transform", sample.Count, sink =>
                {
                    var mismatch = new int[] { -1 };
                    IEnumerable<ScoredQuery> viaTransform = QueryScoring.Score(freshContext, reloaded, sample, images.Source, k, ScoringPath.Transform, threads, cancellation);
                    foreach (ScoredQuery unused in Digest(viaTransform, digests, mismatch, sink))
                    {
                    }

                    return mismatch[0];
                });
                transformChecked = sample.Count;
                Lap("transformCheck", "Transform check", clock, timings);
            }

            timings.Add(new DemoStep("total", "total", total.Elapsed.TotalSeconds));

            if (reportFolder is not null)
            {
                string[] notes =
                [
                    string.Create(CultureInfo.InvariantCulture, $"Fashion-MNIST t10k, leave-one-out: {images.Count} images of {images.Dimension} raw pixels, exact search by squared L2, k = {k}."),
                    "Relevant items are the other images with the query's class label.",
                ];
                EvaluateCommand.WriteReport(console, reportFolder, "raw pixels, squared L2", report, "Fashion-MNIST retrieval demo", notes);
            }

            var summary = new DemoSummary(images.Count, images.Dimension, k, report, zip.Path, zipBytes, outputPath is not null,
                rescoring, firstDifference, transformChecked, transformDifference, timings);
            if (json)
                WriteJson(console, summary);
            else
                WriteText(console, summary);
            return firstDifference < 0 && transformDifference < 0 ? ExitCodes.Success : ExitCodes.DataError;
        }
        finally
        {
            if (temporaryFolder is not null)
                Directory.Delete(temporaryFolder, recursive: true);
        }
    }

    /// <summary>Returns the first <paramref name="count"/> images (all when there are fewer) with their ids and labels.</summary>
    private static VectorSet FirstImages(VectorSet images, int count)
    {
        if (count >= images.Count)
            return images;
        return new VectorSet(images.Values.AsSpan(0, checked(count * images.Dimension)).ToArray(), count, images.Dimension,
            images.Ids![..count], images.Labels![..count], images.Source);
    }

    /// <summary>
    /// Passes the scored queries through and hashes each one's ids and distance bits. With
    /// <paramref name="firstMismatch"/> null it records the hashes; otherwise it compares against them and
    /// stores the first query row whose results differ.
    /// </summary>
    private static IEnumerable<ScoredQuery> Digest(IEnumerable<ScoredQuery> scored, byte[][] digests, int[]? firstMismatch, IProgressSink sink)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ScoredQuery query in scored)
        {
            hash.AppendData(MemoryMarshal.AsBytes(query.Ids.Span));
            hash.AppendData(MemoryMarshal.AsBytes(query.Distances.Span));
            byte[] digest = hash.GetHashAndReset();
            if (firstMismatch is null)
                digests[query.Row] = digest;
            else if (firstMismatch[0] < 0 && !digest.AsSpan().SequenceEqual(digests[query.Row]))
                firstMismatch[0] = query.Row;
            yield return query;
            sink.Advance(1);
        }
    }

    private static void Lap(string key, string label, Stopwatch clock, List<DemoStep> timings)
    {
        timings.Add(new DemoStep(key, label, clock.Elapsed.TotalSeconds));
        clock.Restart();
    }

    /// <summary>Duration of one demo step; <paramref name="Key"/> names it in JSON, <paramref name="Label"/> in the table.</summary>
    private readonly record struct DemoStep(string Key, string Label, double Seconds);

    private sealed record DemoSummary(int Images, int Dimension, int K, RankingReport Report, string ModelPath, long ModelBytes,
        bool ModelKept, ScoringPath Rescoring, int FirstDifference, int TransformChecked, int TransformDifference, List<DemoStep> Timings);

    private static void WriteText(CliConsole console, DemoSummary summary)
    {
        TextWriter output = console.Out;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Fashion-MNIST t10k, leave-one-out: {summary.Images} images of {summary.Dimension} pixels, squared L2, k = {summary.K}"));
        var table = CliConsole.CreateTable().AddColumn("Metric").AddColumn(new TableColumn("Mean").RightAligned());
        foreach (MetricAtCutoff recall in summary.Report.MeanRecall)
            table.AddRow("Recall@" + recall.Cutoff.ToString(CultureInfo.InvariantCulture), EvaluateCommand.FormatMetric(recall.Mean));
        table.AddRow("mAP", EvaluateCommand.FormatMetric(summary.Report.MeanAveragePrecision));
        table.AddRow("MAP@R", EvaluateCommand.FormatMetric(summary.Report.MeanMapAtR));
        console.Write(table);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Queries evaluated: {summary.Report.EvaluatedQueryCount}, excluded (no relevant image): {summary.Report.ExcludedQueryCount}"));
        output.WriteLine($"Model zip: {summary.ModelPath} ({CliCommands.FormatBytes(summary.ModelBytes)}){(summary.ModelKept ? "" : ", deleted at exit")}");
        string path = summary.Rescoring.ToString().ToLowerInvariant();
        output.WriteLine(summary.FirstDifference < 0
            ? string.Create(CultureInfo.InvariantCulture, $"Reloaded model ({path} scoring): identical results, {summary.Images} queries x {summary.K} neighbor ids and distance bits.")
            : string.Create(CultureInfo.InvariantCulture, $"Reloaded model ({path} scoring): results DIFFER, first at query row {summary.FirstDifference}."));
        if (summary.TransformChecked > 0)
        {
            output.WriteLine(summary.TransformDifference < 0
                ? string.Create(CultureInfo.InvariantCulture, $"Reloaded model (ML.NET Transform): identical results for the first {summary.TransformChecked} queries x {summary.K} neighbor ids and distance bits.")
                : string.Create(CultureInfo.InvariantCulture, $"Reloaded model (ML.NET Transform): results DIFFER, first at query row {summary.TransformDifference}."));
        }

        var times = CliConsole.CreateTable().AddColumn("Step").AddColumn(new TableColumn("Time").RightAligned());
        foreach ((_, string label, double seconds) in summary.Timings)
            times.AddRow(label, CliCommands.FormatSeconds(seconds));
        console.Write(times);
    }

    private static void WriteJson(CliConsole console, DemoSummary summary)
    {
        RankingReport report = summary.Report;
        console.WriteJson(new
        {
            command = "demo",
            dataset = "fashion-mnist-t10k",
            images = summary.Images,
            dimension = summary.Dimension,
            metric = "l2",
            k = summary.K,
            recallAt = report.MeanRecall.ToDictionary(m => m.Cutoff.ToString(CultureInfo.InvariantCulture), m => m.Mean),
            meanAveragePrecision = report.MeanAveragePrecision,
            mapAtR = report.MeanMapAtR,
            evaluatedQueries = report.EvaluatedQueryCount,
            excludedQueries = report.ExcludedQueryCount,
            modelPath = summary.ModelKept ? summary.ModelPath : null,
            modelBytes = summary.ModelBytes,
            rescoring = summary.Rescoring.ToString().ToLowerInvariant(),
            reloadIdentical = summary.FirstDifference < 0,
            firstDifferentQuery = summary.FirstDifference < 0 ? (int?)null : summary.FirstDifference,
            transformCheckedQueries = summary.TransformChecked,
            transformIdentical = summary.TransformDifference < 0,
            firstTransformDifferentQuery = summary.TransformDifference < 0 ? (int?)null : summary.TransformDifference,
            seconds = summary.Timings.ToDictionary(t => t.Key, t => t.Seconds),
        });
    }
}
