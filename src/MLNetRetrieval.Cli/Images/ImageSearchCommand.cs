using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;
using Spectre.Console;

namespace MLNetRetrieval.Cli.Images;

/// <summary>Query images that embedded, as a vector set whose rows line up with <see cref="Files"/>.</summary>
/// <param name="Vectors">One row per searchable query; ids as <see cref="ImageSearchCommand.QueryIds"/> assigns them.</param>
/// <param name="Files">The image of each row.</param>
/// <param name="Failures">Images that were not searched, with the reason.</param>
/// <param name="Total">Images listed.</param>
internal sealed record ImageQueries(VectorSet Vectors, ImageFile[] Files, List<(string Path, string Reason)> Failures, int Total);

/// <summary>
/// <c>search --images DIR</c> or <c>--image FILE</c>: embeds the query images with the embedding step
/// stored in the model zip, searches them in batch and writes one CSV row per neighbor, with the
/// neighbor's path from the model's manifest.
/// </summary>
internal static class ImageSearchCommand
{
    public const string CsvHeader = "query_path,rank,neighbor_id,neighbor_path,distance,neighbor_label";

    internal sealed record Settings(string ModelPath, ImageInput Input, int? K, string Output, int Threads, int? Probes, int? Ef, bool Json);

    public static int Run(CliContext context, Settings settings)
    {
        CliConsole console = context.Console;
        var clock = Stopwatch.StartNew();
        bool toStdout = settings.Output == "-";
        using AtomicFile? file = toStdout ? null : new AtomicFile(settings.Output);
        string? failuresPath = settings.Input.FailuresPath ?? (file is null ? null : ImageRetrieval.SiblingPath(file.Path, ".failures.csv"));

        var ml = new MLContext(seed: 1);
        ImageModel model = ImageRetrieval.Load(ml, settings.ModelPath);
        SearchCommand.ApplyProbes(model.File, settings.Probes);
        HnswTypeOptions.ApplySearchEf(model.File, settings.Ef);
        int k = settings.K ?? model.File.Searcher.NumberOfNeighbors;
        QueryScoring.CheckK(model.File, k);

        IReadOnlyList<ImageFile> files = ImageRetrieval.ListImages(settings.Input);
        ImageQueries queries = EmbedQueries(console, model, files, context.CancellationToken);
        ReportFailures(console, queries, failuresPath);
        context.CancellationToken.ThrowIfCancellationRequested();

        Dictionary<long, ImageManifestEntry> manifest = model.ById();
        long written = console.RunWithProgress("Searching", queries.Vectors.Count, sink =>
        {
            IEnumerable<ScoredQuery> scored = QueryScoring.InBatches(model.File.Searcher, queries.Vectors, queries.Vectors.Ids!, k, settings.Threads, context.CancellationToken);
            using TextWriter writer = toStdout ? new SearchCommand.NonClosingWriter(console.Out) : CsvText.CreateWriter(file!.TemporaryPath);
            long rows = WriteCsv(writer, scored, queries.Files, manifest, model.File.Searcher, sink);
            writer.Flush();
            return rows;
        });
        file?.Commit();

        double seconds = clock.Elapsed.TotalSeconds;
        int failed = queries.Failures.Count;
        if (settings.Json && !toStdout)
        {
            console.WriteJson(new
            {
                command = "search",
                model = model.File.Path,
                images = settings.Input.Folder is null ? null : Path.GetFullPath(settings.Input.Folder),
                image = settings.Input.File is null ? null : Path.GetFullPath(settings.Input.File),
                output = file!.Path,
                failures = failuresPath,
                found = queries.Total,
                searched = queries.Vectors.Count,
                failed,
                k,
                rowsWritten = written,
                seconds,
            });
        }
        else if (!toStdout)
        {
            var table = CliConsole.CreateTable().AddColumn("Search").AddColumn("Value");
            table.AddRow("query images", Format(queries.Total));
            table.AddRow("searched", Format(queries.Vectors.Count));
            table.AddRow("failed", Format(failed));
            table.AddRow("k", Format(k));
            table.AddRow("rows written", written.ToString(CultureInfo.InvariantCulture));
            table.AddRow("output", Markup.Escape(file!.Path));
            table.AddRow("failures", Markup.Escape(failuresPath!));
            table.AddRow("time", CliCommands.FormatSeconds(seconds));
            console.Write(table);
        }
        else
        {
            console.Info($"Wrote {written} rows for {queries.Vectors.Count} of {queries.Total} query images in {CliCommands.FormatSeconds(seconds)}.");
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// Embeds the query images with the model's embedder. Images that fail to decode, and images whose
    /// embedding is a zero vector when the index rejects those (cosine metric), become failures.
    /// </summary>
    public static ImageQueries EmbedQueries(CliConsole console, ImageModel model, IReadOnlyList<ImageFile> files, CancellationToken cancellationToken)
    {
        EmbeddingBatchResult embedded = ImageRetrieval.Embed(console, model.Embedder, files, "Embedding queries", cancellationToken);
        var failures = ImageRetrieval.Rows(embedded.Failures).ToList();
        long[] ids = QueryIds(files, model.Manifest);
        int d = embedded.Dimension;
        bool rejectsZero = QueryScoring.RejectsZeroVectors(model.File.Searcher);

        var searchable = new List<int>(embedded.SourceIndices.Length);
        for (int row = 0; row < embedded.SourceIndices.Length; row++)
        {
            if (rejectsZero && !embedded.Vectors.AsSpan(row * d, d).ContainsAnyExcept(0f))
            {
                string path = files[embedded.SourceIndices[row]].Path;
                failures.Add((path, $"The embedding of '{path}' is a zero vector, which has no direction under the index's cosine metric."));
                continue;
            }

            searchable.Add(row);
        }

        var values = new float[checked(searchable.Count * d)];
        var searchableIds = new long[searchable.Count];
        var searchableFiles = new ImageFile[searchable.Count];
        for (int i = 0; i < searchable.Count; i++)
        {
            int source = embedded.SourceIndices[searchable[i]];
            embedded.Vectors.AsSpan(searchable[i] * d, d).CopyTo(values.AsSpan(i * d, d));
            searchableIds[i] = ids[source];
            searchableFiles[i] = files[source];
        }

        return new ImageQueries(new VectorSet(values, searchable.Count, d, searchableIds, null, "query images"), searchableFiles, failures, files.Count);
    }

    /// <summary>
    /// Returns the id of each query image: its manifest id when the index contains the same file (so an
    /// index built with --exclude-self leaves the image out of its own results), else an id above every
    /// manifest id.
    /// </summary>
    public static long[] QueryIds(IReadOnlyList<ImageFile> files, IReadOnlyList<ImageManifestEntry> manifest)
    {
        var byPath = new Dictionary<string, long>(StringComparer.Ordinal);
        long next = 0;
        foreach (ImageManifestEntry entry in manifest)
        {
            byPath.TryAdd(entry.Path, entry.Id);
            next = Math.Max(next, entry.Id + 1);
        }

        var ids = new long[files.Count];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = byPath.TryGetValue(files[i].Path, out long id) ? id : next++;
        return ids;
    }

    /// <summary>Writes the failures CSV, or with no file prints each failure as a warning line on standard error.</summary>
    private static void ReportFailures(CliConsole console, ImageQueries queries, string? failuresPath)
    {
        if (failuresPath is not null)
        {
            ImageRetrieval.WriteFailures(failuresPath, queries.Failures);
        }
        else
        {
            foreach ((string image, string reason) in queries.Failures)
                console.Error.WriteLine($"warning: {image}: {reason}");
        }

        ImageRetrieval.RequireSomeUsed(queries.Vectors.Count, queries.Total, "query images", failuresPath ?? "the warnings above", queries.Failures);
        if (failuresPath is not null && queries.Failures.Count > 0)
            console.Error.WriteLine($"warning: {queries.Failures.Count} of {queries.Total} query images could not be searched; the reasons are in {failuresPath}.");
    }

    /// <summary>Writes the header and one row per returned neighbor, skipping padding (−1); returns the number of data rows.</summary>
    internal static long WriteCsv(TextWriter writer, IEnumerable<ScoredQuery> scored, ImageFile[] queryFiles,
        Dictionary<long, ImageManifestEntry> manifest, NeighborSearcher searcher, IProgressSink sink)
    {
        writer.WriteLine(CsvHeader);
        long rows = 0;
        foreach (ScoredQuery query in scored)
        {
            string queryPath = CsvText.Quote(queryFiles[query.Row].Path);
            ReadOnlySpan<long> ids = query.Ids.Span;
            ReadOnlySpan<float> distances = query.Distances.Span;
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] == Evaluation.RankedList.Padding)
                    continue;
                writer.Write(queryPath);
                writer.Write(',');
                writer.Write(CsvText.Format(i + 1));
                writer.Write(',');
                writer.Write(CsvText.Format(ids[i]));
                writer.Write(',');
                writer.Write(CsvText.Quote(manifest.TryGetValue(ids[i], out ImageManifestEntry? entry) ? entry.Path : ""));
                writer.Write(',');
                writer.Write(CsvText.Format(distances[i]));
                writer.Write(',');
                writer.WriteLine(CsvText.Quote(searcher.GetLabel(ids[i]) ?? ""));
                rows++;
            }

            sink.Advance(1);
        }

        return rows;
    }

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
