using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;
using Spectre.Console;

namespace MLNetRetrieval.Cli.Images;

/// <summary>
/// <c>demo --images</c>: leave-one-out image retrieval on the bundled clip-art sample. It runs the
/// <c>index --images</c> path (ResNet18 embeddings, L2-normalized, exact search), reloads the zip in a
/// fresh context, embeds every image again with the reloaded embedding step, searches each one
/// against the others in batch and evaluates the rankings with the category folders as labels.
/// </summary>
internal static class ImageDemoCommand
{
    /// <summary>Folder of the sample beside the executable; the CLI project copies examples/data/** to data/.</summary>
    internal const string SampleFolder = "data/images";

    private static readonly int[] RecallCutoffs = [1, 10];

    public static int Run(CliContext context, string? outputPath, int? requestedK, int threads, string? reportFolder, bool json)
    {
        CliConsole console = context.Console;
        CancellationToken cancellation = context.CancellationToken;
        var clock = Stopwatch.StartNew();
        string folder = Path.Combine(AppContext.BaseDirectory, SampleFolder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Bundled image sample not found in {folder}. The build copies examples/data/** there; rebuild the CLI project.");

        string? temporaryFolder = outputPath is null ? Directory.CreateTempSubdirectory("mlnet-retrieval-demo-images-").FullName : null;
        try
        {
            string zipPath = outputPath ?? Path.Combine(temporaryFolder!, "clipart-resnet18-exact.zip");
            int imageCount = ImageFolder.List(folder, new ImageFolderOptions { LabelsFromFolders = true }).Count;
            int k = requestedK ?? imageCount - 1;
            var settings = new IndexCommand.IndexSettings(
                Input: null, Parse: null, Indexes.DistanceMetric.SquaredEuclidean, k, ExcludeSelf: true, Normalize: true, zipPath, threads, json,
                IndexType.Exact,
                // The exact index reads none of the compression or graph settings.
                new CompressionSettings(Lists: 1, Probes: 1, Subquantizers: 1, Bits: 8, Rerank: 0, TrainSample: 0, Seed: null),
                new HnswSettings(HnswIndexingEstimator.Options.Defaults.Connectivity, HnswIndexingEstimator.Options.Defaults.EfConstruction, HnswIndexingEstimator.Options.Defaults.EfSearch),
                GraphGiven: false);
            var input = new ImageInput(folder, null, ImageFolderOptions.DefaultExtensions, LabelsFromFolders: true,
                FailuresPath: ImageRetrieval.SiblingPath(zipPath, ".failures.csv"));
            ImageIndexResult built = ImageIndexCommand.Build(context, settings, input, new ImageEmbedderOptions { Normalize = true, Threads = threads });

            // Everything below uses only the zip, as a search in another process would.
            var fresh = new MLContext(seed: 2);
            ImageModel model = ImageRetrieval.Load(fresh, built.ZipPath);
            var queryClock = Stopwatch.StartNew();
            ImageQueries queries = ImageSearchCommand.EmbedQueries(console, model, built.Files, cancellation);
            double queryEmbedSeconds = queryClock.Elapsed.TotalSeconds;
            float difference = MaxDifference(built.Vectors, queries.Vectors);

            NeighborSearcher searcher = model.File.Searcher;
            string[] queryLabels = queries.Files.Select(file => file.Label!).ToArray();
            RankingReport report = console.RunWithProgress("Searching and evaluating", queries.Vectors.Count, sink =>
            {
                IEnumerable<ScoredQuery> scored = EvaluateCommand.WithProgress(
                    QueryScoring.InBatches(searcher, queries.Vectors, queries.Vectors.Ids!, k, threads, cancellation), sink);
                var metrics = new RankingEvaluatorOptions { RecallCutoffs = RecallCutoffs, PrecisionCutoffs = [] };
                return RankingEvaluator.Evaluate(QueryJudging.ByLabels(scored, searcher, queryLabels, leaveOneOut: true), metrics, cancellation);
            });

            string[] categories = built.Files.Select(file => file.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            string description = string.Create(CultureInfo.InvariantCulture,
                $"Clip-art sample, leave-one-out: {built.Indexed} images in {categories.Length} categories ({string.Join(", ", categories)}), ResNet18 embeddings of {built.Dimension} values, L2-normalized, exact search by squared L2, k = {k}");
            if (reportFolder is not null)
            {
                string[] notes =
                [
                    description + ".",
                    "Relevant items are the other images of the query's category folder.",
                ];
                EvaluateCommand.WriteReport(console, reportFolder, "ResNet18, squared L2 on unit vectors", report, "Clip-art image retrieval demo", notes);
            }

            double seconds = clock.Elapsed.TotalSeconds;
            if (json)
            {
                console.WriteJson(new
                {
                    command = "demo",
                    dataset = "openclipart-sample",
                    images = built.Indexed,
                    failed = built.Failed,
                    categories,
                    dimension = built.Dimension,
                    metric = "l2",
                    normalized = true,
                    k,
                    recallAt = report.MeanRecall.ToDictionary(m => m.Cutoff.ToString(CultureInfo.InvariantCulture), m => m.Mean),
                    meanAveragePrecision = report.MeanAveragePrecision,
                    mapAtR = report.MeanMapAtR,
                    evaluatedQueries = report.EvaluatedQueryCount,
                    excludedQueries = report.ExcludedQueryCount,
                    modelPath = outputPath is null ? null : built.ZipPath,
                    modelBytes = built.ZipBytes,
                    reloadMaxEmbeddingDifference = difference,
                    embedSeconds = built.EmbedSeconds,
                    queryEmbedSeconds,
                    seconds,
                });
                return ExitCodes.Success;
            }

            TextWriter output = console.Out;
            output.WriteLine(description);
            var table = CliConsole.CreateTable().AddColumn("Metric").AddColumn(new TableColumn("Mean").RightAligned());
            foreach (MetricAtCutoff recall in report.MeanRecall)
                table.AddRow("Recall@" + recall.Cutoff.ToString(CultureInfo.InvariantCulture), EvaluateCommand.FormatMetric(recall.Mean));
            table.AddRow("mAP", EvaluateCommand.FormatMetric(report.MeanAveragePrecision));
            table.AddRow("MAP@R", EvaluateCommand.FormatMetric(report.MeanMapAtR));
            console.Write(table);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Queries evaluated: {report.EvaluatedQueryCount}, excluded (no other image in the category): {report.ExcludedQueryCount}, images that could not be read: {built.Failed}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Embedding: {built.Found} images in {CliCommands.FormatSeconds(built.EmbedSeconds)} before indexing, again in {CliCommands.FormatSeconds(queryEmbedSeconds)} with the reloaded model; largest difference between the two embeddings of an image: {difference:G3}"));
            output.WriteLine($"Model zip: {built.ZipPath} ({CliCommands.FormatBytes(built.ZipBytes)}){(outputPath is null ? ", deleted at exit" : "")}");
            output.WriteLine($"Total time: {CliCommands.FormatSeconds(seconds)}");
            return ExitCodes.Success;
        }
        finally
        {
            if (temporaryFolder is not null)
                Directory.Delete(temporaryFolder, recursive: true);
        }
    }

    /// <summary>Returns the largest absolute difference between the rows of equal id in two vector sets of one dimension.</summary>
    private static float MaxDifference(VectorSet first, VectorSet second)
    {
        var rowOf = new Dictionary<long, int>();
        for (int row = 0; row < first.Count; row++)
            rowOf[first.Ids![row]] = row;

        float max = 0f;
        for (int row = 0; row < second.Count; row++)
        {
            if (!rowOf.TryGetValue(second.Ids![row], out int other))
                continue;
            ReadOnlySpan<float> a = first.GetVector(other);
            ReadOnlySpan<float> b = second.GetVector(row);
            for (int i = 0; i < a.Length; i++)
                max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }
}
