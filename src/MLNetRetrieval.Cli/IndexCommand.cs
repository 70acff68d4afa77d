using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using MLNetRetrieval.Cli.Images;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>index</c>: reads a vector file, fits an index of the chosen type (after optional L2
/// normalization) and saves the fitted pipeline with <c>ml.Model.Save</c>. With --images it embeds
/// a folder of images first (see <see cref="ImageIndexCommand"/>).
/// </summary>
internal static class IndexCommand
{
    public static Command Create(CliContext context)
    {
        var input = new VectorInputOptions("--input", "Vector file to index (the collection). Required unless --images is given.", required: false);
        var images = new ImageInputOptions(forIndex: true);
        var imageModel = new ImageModelOptions();
        Option<string> metric = CliCommands.CreateChoice("--metric",
            "Distance between vectors: 'l2' squared Euclidean, 'ip' negative inner product, 'cosine' 1 - cosine similarity. Smaller is closer for all three.",
            "l2", "l2", "ip", "cosine");
        Option<int?> k = CliCommands.CreateKOption("Neighbors stored per query (k); search and evaluate can return at most this many. Default: 10.");
        var excludeSelf = new Option<bool>("--exclude-self")
        {
            Description = "Leave-one-out: a query whose id is in the collection never gets itself as a neighbor. Use it when the queries are the collection itself, with the same ids.",
        };
        var normalize = new Option<bool>("--normalize")
        {
            Description = "Scale every vector to unit L2 norm (ML.NET NormalizeLpNorm) before indexing; the saved model applies it to queries too. With --images the embedding step scales each embedding instead.",
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Model zip to write; an existing file is replaced.",
            HelpName = "FILE",
            Required = true,
        };
        Option<int> threads = CliContext.CreateThreadsOption("building the index");
        Option<string> type = IndexTypeOptions.CreateTypeOption();
        var compression = new IndexTypeOptions();
        var graph = new HnswTypeOptions();

        var command = new Command("index", "Build a k-nearest-neighbor index (exact, PQ, IVF-Flat, IVF-PQ or HNSW) over a vector file, or over the embeddings of a folder of images, and save it as an ML.NET model zip.");
        input.AddTo(command);
        images.AddTo(command);
        imageModel.AddTo(command);
        command.Add(type);
        compression.AddTo(command);
        graph.AddTo(command);
        command.Add(metric);
        command.Add(k);
        command.Add(excludeSelf);
        command.Add(normalize);
        command.Add(output);
        command.Add(threads);
        command.SetAction(parse =>
        {
            bool imagesGiven = images.IsGiven(parse);
            input.RequireOneSource(parse, imagesGiven, "--images DIR");
            if (!imagesGiven && imageModel.FirstGiven(parse) is { } stray)
                throw new UsageException($"{stray.Name} applies to --images only; pass --images DIR or drop {stray.Name}.");
            var settings = new IndexSettings(
            input, parse,
            CliCommands.ParseMetric(parse.GetValue(metric)!),
            parse.GetValue(k) ?? NeighborSearchOptions.Defaults.NumberOfNeighbors,
            parse.GetValue(excludeSelf),
            parse.GetValue(normalize),
            parse.GetValue(output)!,
            parse.GetValue(threads),
            parse.GetValue(context.Json),
            IndexTypeOptions.ParseType(parse.GetValue(type)!),
            compression.Read(parse),
            graph.Read(parse),
            graph.AnyGiven(parse));
            if (images.Read(parse) is { } imageInput)
                return ImageIndexCommand.Run(context, settings, imageInput, imageModel.Read(parse, settings.Normalize, settings.Threads));
            return Run(context, settings);
        });
        return command;
    }

    /// <summary>Settings of one index run; <paramref name="Input"/> and <paramref name="Parse"/> locate the vector file and are null for images.</summary>
    internal sealed record IndexSettings(VectorInputOptions? Input, ParseResult? Parse, Indexes.DistanceMetric Metric, int K,
        bool ExcludeSelf, bool Normalize, string Output, int Threads, bool Json, IndexType Type, CompressionSettings Compression,
        HnswSettings Graph, bool GraphGiven);

    private static int Run(CliContext context, IndexSettings settings)
    {
        CliConsole console = context.Console;
        var clock = Stopwatch.StartNew();
        VectorInputOptions input = settings.Input!;
        ParseResult parse = settings.Parse!;
        string inputPath = parse.GetValue(input.Path)!;
        using var zip = new AtomicFile(settings.Output);

        // Check the type's settings before reading a possibly large input file.
        CheckTypeSettings(settings);
        VectorSet vectors = input.Read(parse);
        if (settings.Metric == Indexes.DistanceMetric.Cosine && QueryScoring.FindZeroRow(vectors) is int zeroRow and >= 0)
        {
            throw new InvalidDataException(
                $"{inputPath}: row {zeroRow} (rows counted from 0), id {VectorViews.IdsOf(vectors)[zeroRow]}, is a zero vector, which has no direction under --metric cosine. Remove that vector, or use --metric l2 or ip.");
        }

        context.CancellationToken.ThrowIfCancellationRequested();

        var ml = new MLContext(seed: 1);
        IDataView view = VectorViews.Create(ml, vectors);
        ITransformer model = FitIndex(context, ml, settings, vectors, view, settings.Normalize);

        context.CancellationToken.ThrowIfCancellationRequested();
        ml.Model.Save(model, view.Schema, zip.TemporaryPath);
        zip.Commit();
        long zipBytes = new FileInfo(zip.Path).Length;
        double seconds = clock.Elapsed.TotalSeconds;

        if (settings.Json)
        {
            console.WriteJson(new
            {
                command = "index",
                input = inputPath,
                output = zip.Path,
                type = IndexTypeOptions.TypeName(settings.Type),
                lists = settings.Type is IndexType.IvfFlat or IndexType.IvfPq ? settings.Compression.Lists : (int?)null,
                probes = settings.Type is IndexType.IvfFlat or IndexType.IvfPq ? settings.Compression.Probes : (int?)null,
                subquantizers = settings.Type is IndexType.Pq or IndexType.IvfPq ? settings.Compression.Subquantizers : (int?)null,
                connectivity = settings.Type is IndexType.Hnsw ? settings.Graph.Connectivity : (int?)null,
                efConstruction = settings.Type is IndexType.Hnsw ? settings.Graph.EfConstruction : (int?)null,
                ef = settings.Type is IndexType.Hnsw ? settings.Graph.EfSearch : (int?)null,
                rows = vectors.Count,
                dimension = vectors.Dimension,
                metric = CliCommands.MetricName(settings.Metric),
                k = settings.K,
                excludeSelf = settings.ExcludeSelf,
                normalize = settings.Normalize,
                labels = vectors.Labels is not null,
                zipBytes,
                seconds,
            });
            return ExitCodes.Success;
        }

        var table = CliConsole.CreateTable().AddColumn("Index").AddColumn("Value");
        table.AddRow("input", Markup.Escape(inputPath));
        table.AddRow("type", Describe(settings.Type, settings.Compression, settings.Graph));
        table.AddRow("rows", vectors.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("dimension", vectors.Dimension.ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("metric", CliCommands.MetricName(settings.Metric) + (settings.Normalize ? " (vectors L2-normalized)" : ""));
        table.AddRow("k", settings.K.ToString(System.Globalization.CultureInfo.InvariantCulture) + (settings.ExcludeSelf ? " (self excluded)" : ""));
        table.AddRow("labels", vectors.Labels is null ? "no" : "yes");
        table.AddRow("model zip", Markup.Escape(zip.Path));
        table.AddRow("zip size", CliCommands.FormatBytes(zipBytes));
        table.AddRow("time", CliCommands.FormatSeconds(seconds));
        console.Write(table);
        return ExitCodes.Success;
    }

    /// <summary>Checks the index type's settings, so a bad combination fails before any input is read.</summary>
    /// <exception cref="UsageException">A setting does not fit the type.</exception>
    internal static void CheckTypeSettings(IndexSettings settings)
    {
        if (settings.GraphGiven && settings.Type is not (IndexType.Hnsw or IndexType.IvfHnswPq))
            throw new UsageException($"--connectivity, --ef-construction and --ef apply to --type hnsw and ivf-hnsw-pq only, not {IndexTypeOptions.TypeName(settings.Type)}.");
        IndexTypeOptions.CreateEstimator(new MLContext(seed: 1), settings.Type, new NeighborSearchOptions { NumberOfNeighbors = settings.K }, settings.Metric, settings.Compression, settings.Graph);
    }

    /// <summary>
    /// Fits the index of the chosen type over <paramref name="view"/> (columns of <see cref="VectorViews"/>)
    /// with a progress bar, after an L2 normalization when <paramref name="normalize"/> is set.
    /// </summary>
    internal static ITransformer FitIndex(CliContext context, MLContext ml, IndexSettings settings, VectorSet vectors, IDataView view, bool normalize) =>
        context.Console.RunWithProgress("Indexing", vectors.Count, sink =>
        {
            var options = new NeighborSearchOptions
            {
                FeatureColumnName = VectorViews.FeatureColumn,
                IdColumnName = VectorViews.IdColumn,
                LabelColumnName = vectors.Labels is null ? null : VectorViews.LabelColumn,
                NumberOfNeighbors = settings.K,
                ExcludeSelf = settings.ExcludeSelf,
                NumberOfThreads = settings.Threads,
                Progress = new IndexingProgressSink(sink),
                CancellationToken = context.CancellationToken,
            };
            IEstimator<ITransformer> pipeline = IndexTypeOptions.CreateEstimator(ml, settings.Type, options, settings.Metric, settings.Compression, settings.Graph);
            if (normalize)
                pipeline = ml.Transforms.NormalizeLpNorm(VectorViews.FeatureColumn).Append(pipeline);
            return pipeline.Fit(view);
        });

    internal static string Describe(IndexType type, CompressionSettings settings, HnswSettings graph) => type switch
    {
        IndexType.Hnsw => $"hnsw (M = {graph.Connectivity}, efConstruction = {graph.EfConstruction}, efSearch = {graph.EfSearch})",
        IndexType.Pq => $"pq (M = {settings.Subquantizers}, nbits = {settings.Bits})",
        IndexType.IvfFlat => $"ivf-flat (nlist = {settings.Lists}, nprobe = {settings.Probes})",
        IndexType.IvfHnswPq => $"ivf-hnsw-pq (nlist = {settings.Lists}, nprobe = {settings.Probes}, M = {settings.Subquantizers}, nbits = {settings.Bits}, rerank = {settings.Rerank}, coarse HNSW M = {graph.Connectivity}, ef = {graph.EfSearch})",
        IndexType.IvfPq => $"ivf-pq (nlist = {settings.Lists}, nprobe = {settings.Probes}, M = {settings.Subquantizers}, nbits = {settings.Bits}, rerank = {settings.Rerank})",
        _ => "exact",
    };

    /// <summary>Forwards the estimator's read and index phases to one progress bar, synchronously on the reporting thread.</summary>
    private sealed class IndexingProgressSink(IProgressSink sink) : IProgress<IndexingProgress>
    {
        private string? _phase;

        public void Report(IndexingProgress value)
        {
            if (value.Phase != _phase)
            {
                _phase = value.Phase;
                sink.Restart(value.Phase switch { "read" => "Reading rows", "train" => "Training", _ => "Indexing" }, value.Total);
            }

            sink.Set(value.Done);
        }
    }
}
