using System.IO.Compression;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Cli.Images;

/// <summary>An image model zip loaded for searching: the index, the embedder of its first step and the manifest.</summary>
internal sealed record ImageModel(ModelFile File, ImageEmbedder Embedder, IReadOnlyList<ImageManifestEntry> Manifest)
{
    /// <summary>Returns the manifest entry of each indexed id.</summary>
    public Dictionary<long, ImageManifestEntry> ById() => Manifest.ToDictionary(entry => entry.Id);
}

/// <summary>
/// The steps that the image commands share: listing files, embedding them with a progress bar,
/// writing the failures CSV, and writing and reading the manifest inside a model zip.
/// </summary>
internal static class ImageRetrieval
{
    /// <summary>Text column with the image path in the view that the saved model reads.</summary>
    public const string PathColumn = nameof(PathRow.ImagePath);

    /// <summary>Entry of the model zip that contains the manifest; ML.NET's loader ignores entries it does not know.</summary>
    public const string ManifestEntryName = "MLNetRetrieval.Images/manifest.csv";

    public const string FailuresHeader = "path,reason";

    /// <summary>Returns the path beside <paramref name="path"/> whose name ends in <paramref name="suffix"/> instead of the extension (model.zip to model.manifest.csv).</summary>
    public static string SiblingPath(string path, string suffix)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + suffix);
    }

    /// <summary>Lists the images of --images DIR, or the one --image FILE with id 0.</summary>
    /// <exception cref="FileNotFoundException">The --image file does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">The --images folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has no image with the chosen extensions, or labels were requested for an image outside a sub-folder.</exception>
    public static IReadOnlyList<ImageFile> ListImages(ImageInput input)
    {
        if (input.File is { } file)
        {
            string full = Path.GetFullPath(file);
            if (!File.Exists(full))
                throw new FileNotFoundException($"Query image not found: {full}. Check the --image path.", full);
            return [new ImageFile(full, Path.GetFileName(full), 0, null)];
        }

        return ImageFolder.List(input.Folder!, new ImageFolderOptions { Extensions = input.Extensions, LabelsFromFolders = input.LabelsFromFolders });
    }

    /// <summary>Embeds <paramref name="files"/> with a progress bar; bad images become failures, not exceptions.</summary>
    public static EmbeddingBatchResult Embed(CliConsole console, ImageEmbedder embedder, IReadOnlyList<ImageFile> files, string description, CancellationToken cancellationToken)
    {
        string[] paths = files.Select(file => file.Path).ToArray();
        return console.RunWithProgress(description, paths.Length,
            sink => embedder.EmbedFiles(paths, new EmbeddingProgressSink(sink), cancellationToken));
    }

    /// <summary>Returns the embedded rows as a vector set whose ids and labels come from <paramref name="files"/>.</summary>
    public static VectorSet ToVectorSet(EmbeddingBatchResult result, IReadOnlyList<ImageFile> files, string source)
    {
        int count = result.SourceIndices.Length;
        var ids = new long[count];
        string[]? labels = files.Count > 0 && files[0].Label is not null ? new string[count] : null;
        for (int i = 0; i < count; i++)
        {
            ImageFile file = files[result.SourceIndices[i]];
            ids[i] = file.Id;
            if (labels is not null)
                labels[i] = file.Label!;
        }

        return new VectorSet(result.Vectors, count, result.Dimension, ids, labels, source);
    }

    /// <summary>Writes the failures CSV (path,reason) through a temporary file and commits it.</summary>
    public static void WriteFailures(string path, IEnumerable<(string Path, string Reason)> failures)
    {
        using var file = new AtomicFile(path);
        WriteFailures(file, failures);
        file.Commit();
    }

    /// <summary>
    /// Writes the failures CSV (path,reason) to the temporary file of <paramref name="file"/>, so the caller can
    /// commit it together with the other outputs of the run.
    /// </summary>
    public static void WriteFailures(AtomicFile file, IEnumerable<(string Path, string Reason)> failures)
    {
        using StreamWriter writer = CsvText.CreateWriter(file.TemporaryPath);
        writer.WriteLine(FailuresHeader);
        foreach ((string image, string reason) in failures)
            writer.WriteLine(CsvText.Quote(image) + "," + CsvText.Quote(reason));
    }

    /// <summary>Returns the failures of an embedding run as (path, reason) rows.</summary>
    public static IEnumerable<(string Path, string Reason)> Rows(IEnumerable<ImageFailure> failures) =>
        failures.Select(failure => (failure.Source, failure.Reason));

    /// <summary>Throws when no image could be used, naming the count and where the reasons are.</summary>
    /// <exception cref="InvalidDataException"><paramref name="used"/> is 0.</exception>
    public static void RequireSomeUsed(int used, int total, string what, string failuresWhere, IReadOnlyList<(string Path, string Reason)> failures)
    {
        if (used > 0)
            return;
        // The decoder's reasons name the file, so the first one is quoted as it is.
        string first = failures.Count > 0 ? $" The first reason: {ExceptionText.Sentence(failures[0].Reason)}" : "";
        throw new InvalidDataException($"None of the {what} could be used ({total} tried); the reasons are in {failuresWhere}.{first}");
    }

    /// <summary>Creates the view that the saved model reads: the image path (Text), the id (Int64) and optionally the label (Text).</summary>
    public static IDataView CreatePathView(MLContext context, IReadOnlyList<ImageFile> files, bool withLabels)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(PathRow));
        if (!withLabels)
            definition.Remove(definition[nameof(PathRow.Label)]);
        PathRow[] rows = files.Select(file => new PathRow { ImagePath = file.Path, Id = file.Id, Label = file.Label ?? "" }).ToArray();
        return context.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>Adds the manifest to a model zip that ML.NET has written.</summary>
    public static void AddManifest(string zipPath, IReadOnlyList<ImageManifestEntry> manifest)
    {
        using ZipArchive archive = ZipFile.Open(zipPath, ZipArchiveMode.Update);
        archive.GetEntry(ManifestEntryName)?.Delete();
        ZipArchiveEntry entry = archive.CreateEntry(ManifestEntryName, CompressionLevel.Optimal);
        using var writer = new StreamWriter(entry.Open(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        ImageManifest.Write(writer, manifest);
    }

    /// <summary>Reads the manifest inside a model zip.</summary>
    /// <exception cref="InvalidDataException">The zip has no manifest (it did not come from index --images), or the manifest is invalid.</exception>
    public static IReadOnlyList<ImageManifestEntry> ReadManifest(string zipPath)
    {
        using ZipArchive archive = ZipFile.OpenRead(zipPath);
        ZipArchiveEntry entry = archive.GetEntry(ManifestEntryName)
            ?? throw new InvalidDataException($"{zipPath}: the model has no image manifest ({ManifestEntryName}), so it was not written by index --images. Pass vector queries with --queries, or build the model with index --images.");
        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return ImageManifest.Read(reader, $"{zipPath}:{ManifestEntryName}");
    }

    /// <summary>Loads a model zip written by index --images, with its embedder and manifest.</summary>
    /// <exception cref="InvalidDataException">The zip is not an image model, its manifest does not match the index, or the embedding does not fit the index.</exception>
    public static ImageModel Load(MLContext context, string path)
    {
        ModelFile model = ModelFile.Load(context, path);
        IReadOnlyList<ImageManifestEntry> manifest = ReadManifest(model.Path);
        if (manifest.Count != model.Searcher.Count)
            throw new InvalidDataException($"{model.Path}: the manifest lists {manifest.Count} images but the index contains {model.Searcher.Count} vectors. Rebuild the model with index --images.");
        ImageEmbedder embedder = ImageModelAccess.FindEmbedder(context, model.Model)
            ?? throw new InvalidDataException($"{model.Path}: the model has an image manifest but no image embedding step. Rebuild the model with index --images.");
        if (embedder.Dimension != model.Searcher.Dimension)
            throw new InvalidDataException($"{model.Path}: the embedding step writes {embedder.Dimension} values per image but the index has dimension {model.Searcher.Dimension}. Rebuild the model with index --images.");
        return new ImageModel(model, embedder, manifest);
    }

    /// <summary>One row of the path view; public fields because ML.NET binds columns to them by reflection.</summary>
    private sealed class PathRow
    {
        public string ImagePath = "";

        public long Id;

        public string Label = "";
    }

    /// <summary>Forwards embedding progress to a bar; reports can arrive from several threads and out of order.</summary>
    private sealed class EmbeddingProgressSink(IProgressSink sink) : IProgress<EmbeddingProgress>
    {
        private readonly Lock _gate = new();
        private int _done;

        public void Report(EmbeddingProgress value)
        {
            lock (_gate)
            {
                if (value.Done <= _done)
                    return;
                _done = value.Done;
                sink.Set(value.Done);
            }
        }
    }
}
