using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.IO;
using Spectre.Console;

namespace MLNetRetrieval.Cli.Images;

/// <summary>What <see cref="ImageIndexCommand.Build"/> wrote and counted.</summary>
internal sealed record ImageIndexResult(
    string ZipPath, string ManifestPath, string FailuresPath, int Found, int Indexed, int Failed, int Dimension,
    long ZipBytes, VectorSet Vectors, IReadOnlyList<ImageFile> Files, double EmbedSeconds);

/// <summary>
/// <c>index --images DIR</c>: lists the folder, embeds every image with a progress bar, writes the
/// failures CSV, indexes the embeddings of the images that worked, and saves one model zip whose
/// chain is the embedding step followed by the index, with the manifest inside and beside it.
/// </summary>
internal static class ImageIndexCommand
{
    public static int Run(CliContext context, IndexCommand.IndexSettings settings, ImageInput input, ImageEmbedderOptions embedding)
    {
        var clock = Stopwatch.StartNew();
        ImageIndexResult result = Build(context, settings, input, embedding);
        double seconds = clock.Elapsed.TotalSeconds;

        CliConsole console = context.Console;
        if (result.Failed > 0)
            console.Error.WriteLine($"warning: {result.Failed} of {result.Found} images could not be read and are not indexed; the reasons are in {result.FailuresPath}.");

        if (settings.Json)
        {
            console.WriteJson(new
            {
                command = "index",
                images = Path.GetFullPath(input.Folder!),
                output = result.ZipPath,
                manifest = result.ManifestPath,
                failures = result.FailuresPath,
                model = ImageModelOptions.Describe(embedding),
                type = IndexTypeOptions.TypeName(settings.Type),
                found = result.Found,
                indexed = result.Indexed,
                failed = result.Failed,
                dimension = result.Dimension,
                metric = CliCommands.MetricName(settings.Metric),
                k = settings.K,
                excludeSelf = settings.ExcludeSelf,
                normalize = settings.Normalize,
                labels = input.LabelsFromFolders,
                zipBytes = result.ZipBytes,
                embedSeconds = result.EmbedSeconds,
                seconds,
            });
            return ExitCodes.Success;
        }

        var table = CliConsole.CreateTable().AddColumn("Index").AddColumn("Value");
        table.AddRow("images", Markup.Escape(Path.GetFullPath(input.Folder!)));
        table.AddRow("found", Format(result.Found));
        table.AddRow("indexed", Format(result.Indexed));
        table.AddRow("failed", Format(result.Failed));
        table.AddRow("embedding", Markup.Escape(ImageModelOptions.Describe(embedding)) + $", {result.Dimension} values");
        table.AddRow("embedding time", CliCommands.FormatSeconds(result.EmbedSeconds));
        table.AddRow("type", IndexCommand.Describe(settings.Type, settings.Compression, settings.Graph));
        table.AddRow("metric", CliCommands.MetricName(settings.Metric));
        table.AddRow("k", Format(settings.K) + (settings.ExcludeSelf ? " (self excluded)" : ""));
        table.AddRow("labels", input.LabelsFromFolders ? "sub-folder names" : "no");
        table.AddRow("model zip", Markup.Escape(result.ZipPath));
        table.AddRow("zip size", CliCommands.FormatBytes(result.ZipBytes));
        table.AddRow("manifest", Markup.Escape(result.ManifestPath));
        table.AddRow("failures", Markup.Escape(result.FailuresPath));
        table.AddRow("time", CliCommands.FormatSeconds(seconds));
        console.Write(table);
        return ExitCodes.Success;
    }

    /// <summary>Embeds, indexes and saves; shared with <c>demo --images</c>.</summary>
    /// <exception cref="InvalidDataException">No image could be read, or an embedding is a zero vector under the cosine metric.</exception>
    public static ImageIndexResult Build(CliContext context, IndexCommand.IndexSettings settings, ImageInput input, ImageEmbedderOptions embedding)
    {
        CliConsole console = context.Console;
        CancellationToken cancellation = context.CancellationToken;
        using var zip = new AtomicFile(settings.Output);
        using var manifestFile = new AtomicFile(ImageRetrieval.SiblingPath(zip.Path, ".manifest.csv"));
        using var failuresFile = new AtomicFile(input.FailuresPath ?? ImageRetrieval.SiblingPath(zip.Path, ".failures.csv"));
        string failuresPath = failuresFile.Path;

        IndexCommand.CheckTypeSettings(settings);
        IReadOnlyList<ImageFile> files = ImageRetrieval.ListImages(input);
        string folder = Path.GetFullPath(input.Folder!);

        // The fitted step owns the embedder that is saved in the zip, so the index contains exactly the vectors that step computes.
        var ml = new MLContext(seed: 1);
        IDataView paths = ImageRetrieval.CreatePathView(ml, files, input.LabelsFromFolders);
        ITransformer embeddingStep = ImageModelAccess.FitEmbedding(ml, VectorViews.FeatureColumn, ImageRetrieval.PathColumn, embedding, paths);
        ImageEmbedder embedder = ImageModelAccess.FindEmbedder(ml, embeddingStep)
            ?? throw new InvalidOperationException("The fitted embedding step has no embedder.");

        var embedClock = Stopwatch.StartNew();
        EmbeddingBatchResult embedded = ImageRetrieval.Embed(console, embedder, files, "Embedding images", cancellation);
        double embedSeconds = embedClock.Elapsed.TotalSeconds;
        var failures = ImageRetrieval.Rows(embedded.Failures).ToList();
        ImageRetrieval.WriteFailures(failuresFile, failures);
        cancellation.ThrowIfCancellationRequested();

        // With no usable image the run fails, and the failures CSV is its only output, which the error message names.
        if (embedded.SourceIndices.Length == 0)
            failuresFile.Commit();
        ImageRetrieval.RequireSomeUsed(embedded.SourceIndices.Length, files.Count, $"images under {folder}", failuresPath, failures);
        cancellation.ThrowIfCancellationRequested();

        VectorSet vectors = ImageRetrieval.ToVectorSet(embedded, files, folder);
        if (settings.Metric == Indexes.DistanceMetric.Cosine && QueryScoring.FindZeroRow(vectors) is int zeroRow and >= 0)
        {
            string image = files[embedded.SourceIndices[zeroRow]].Path;
            throw new InvalidDataException($"{image}: the embedding is a zero vector, which has no direction under --metric cosine. Remove that image, or use --metric l2 or ip.");
        }

        IDataView view = VectorViews.Create(ml, vectors);
        ITransformer index = IndexCommand.FitIndex(context, ml, settings, vectors, view, normalize: false);
        cancellation.ThrowIfCancellationRequested();

        ImageManifestEntry[] manifest = embedded.SourceIndices
            .Select(source => new ImageManifestEntry(files[source].Path, files[source].Id, files[source].Label))
            .ToArray();
        cancellation.ThrowIfCancellationRequested();
        ml.Model.Save(embeddingStep.Append(index), paths.Schema, zip.TemporaryPath);
        ImageRetrieval.AddManifest(zip.TemporaryPath, manifest);
        ImageManifest.Write(manifestFile.TemporaryPath, manifest);

        // Saving takes seconds for a large model, so a Ctrl+C during the save still cancels the run and the
        // outputs of an earlier run stay as they were. The three files are committed together.
        cancellation.ThrowIfCancellationRequested();
        zip.Commit();
        manifestFile.Commit();
        failuresFile.Commit();

        return new ImageIndexResult(zip.Path, manifestFile.Path, failuresPath, files.Count, vectors.Count, embedded.Failures.Count,
            vectors.Dimension, new FileInfo(zip.Path).Length, vectors, files, embedSeconds);
    }

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
