using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using MLNetRetrieval.Cli.Images;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>search</c>: scores query vectors with a saved model and writes one CSV row per neighbor. With
/// --images or --image it embeds query images first (see <see cref="ImageSearchCommand"/>).
/// </summary>
internal static class SearchCommand
{
    public const string CsvHeader = "query_id,rank,neighbor_id,distance,neighbor_label";

    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model zip written by the index command.",
            HelpName = "FILE",
            Required = true,
        };
        var queries = new VectorInputOptions("--queries", "Vector file with the queries; ids from --ids or --id-column name the queries in the output (default: row numbers from 0). Required unless --images or --image is given.", required: false);
        var images = new ImageInputOptions(forIndex: false);
        Option<int?> k = CliCommands.CreateKOption("Neighbors written per query; at most the model's k, which is also the default.");
        var output = new Option<string>("--output", "-o")
        {
            Description = $"CSV file to write, with the header {CsvHeader} (with --images or --image: {ImageSearchCommand.CsvHeader}); an existing file is replaced only when the search succeeds. '-' writes to standard output as queries are scored, so a run that fails after the first block of queries leaves the rows written so far and exits non-zero.",
            HelpName = "FILE",
            Required = true,
        };
        Option<string> scoring = CliCommands.CreateScoringOption();
        Option<int> threads = CliContext.CreateThreadsOption("batch scoring (--scoring batch or auto)");
        Option<int?> probes = CreateProbesOption();
        Option<int?> ef = HnswTypeOptions.CreateSearchEfOption();

        var command = new Command("search", "Find the nearest neighbors of query vectors, or of query images with a model from index --images, and write them as CSV.");
        command.Add(model);
        queries.AddTo(command);
        images.AddTo(command);
        command.Add(k);
        command.Add(output);
        command.Add(scoring);
        command.Add(threads);
        command.Add(probes);
        command.Add(ef);
        command.SetAction(parse =>
        {
            queries.RequireOneSource(parse, images.IsGiven(parse), "--images DIR or --image FILE");
            if (images.Read(parse) is { } imageInput)
            {
                if (parse.GetResult(scoring) is { Implicit: false } && parse.GetValue(scoring) == "transform")
                    throw new UsageException("--scoring transform does not apply to --images or --image: query images are embedded and then searched in batch. Drop --scoring.");
                return ImageSearchCommand.Run(context, new ImageSearchCommand.Settings(parse.GetValue(model)!, imageInput, parse.GetValue(k), parse.GetValue(output)!,
                    parse.GetValue(threads), parse.GetValue(probes), parse.GetValue(ef), parse.GetValue(context.Json)));
            }

            return Run(context, parse.GetValue(model)!, queries, parse, parse.GetValue(k), parse.GetValue(output)!,
                CliCommands.ParseScoring(parse.GetValue(scoring)!), parse.GetValue(threads), parse.GetValue(probes), parse.GetValue(ef), parse.GetValue(context.Json));
        });
        return command;
    }

    private static int Run(CliContext context, string modelPath, VectorInputOptions queryOptions, ParseResult parse,
        int? requestedK, string outputPath, ScoringPath scoring, int threads, int? probes, int? ef, bool json)
    {
        CliConsole console = context.Console;
        var clock = Stopwatch.StartNew();
        bool toStdout = outputPath == "-";
        using AtomicFile? file = toStdout ? null : new AtomicFile(outputPath);

        var ml = new MLContext(seed: 1);
        ModelFile model = ModelFile.Load(ml, modelPath);
        ApplyProbes(model, probes);
        HnswTypeOptions.ApplySearchEf(model, ef);
        int k = requestedK ?? model.Searcher.NumberOfNeighbors;
        QueryScoring.CheckK(model, k);
        QueryScoring.Resolve(model, scoring);
        string queriesPath = parse.GetValue(queryOptions.Path)!;
        VectorSet queries = queryOptions.Read(parse);
        IEnumerable<ScoredQuery> scored = QueryScoring.Score(ml, model, queries, queriesPath, k, scoring, threads, context.CancellationToken);
        ScoringPath used = QueryScoring.Resolve(model, scoring);

        long written = console.RunWithProgress("Searching", queries.Count, sink =>
        {
            using TextWriter writer = toStdout ? new NonClosingWriter(console.Out) : CsvText.CreateWriter(file!.TemporaryPath);
            long rows = WriteCsv(writer, scored, model.Searcher, sink);
            writer.Flush();
            return rows;
        });
        file?.Commit();

        double seconds = clock.Elapsed.TotalSeconds;
        if (json && !toStdout)
        {
            console.WriteJson(new
            {
                command = "search",
                model = model.Path,
                queries = queriesPath,
                output = file!.Path,
                queryCount = queries.Count,
                k,
                probes = model.Searcher.SupportsProbes ? model.Searcher.NumberOfProbes : (int?)null,
                ef = model.Searcher.SupportsEfSearch ? model.Searcher.EfSearch : (int?)null,
                rowsWritten = written,
                scoring = used.ToString().ToLowerInvariant(),
                seconds,
            });
        }
        else if (!toStdout)
        {
            var table = CliConsole.CreateTable().AddColumn("Search").AddColumn("Value");
            table.AddRow("queries", queries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("k", k.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (model.Searcher.SupportsProbes)
                table.AddRow("probes", model.Searcher.NumberOfProbes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (model.Searcher.SupportsEfSearch)
                table.AddRow("ef", model.Searcher.EfSearch.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("rows written", written.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("scoring", used.ToString().ToLowerInvariant());
            table.AddRow("output", Markup.Escape(file!.Path));
            table.AddRow("time", CliCommands.FormatSeconds(seconds));
            console.Write(table);
        }
        else
        {
            console.Info($"Wrote {written} rows for {queries.Count} queries in {CliCommands.FormatSeconds(seconds)}.");
        }

        return ExitCodes.Success;
    }

    /// <summary>Creates the --probes option of the commands that score with a saved model.</summary>
    public static Option<int?> CreateProbesOption() => new("--probes", "--nprobe")
    {
        Description = "IVF models only (index --type ivf-flat or ivf-pq): inverted lists scanned per query (nprobe), in [1, the model's --lists]. Overrides the value stored in the model for this run; more probes raise recall and cost time. Default: the model's value.",
        HelpName = "N",
        CustomParser = result => CliCommands.ParseInteger(result, 1, int.MaxValue, "--probes must be an integer of at least 1"),
    };

    /// <summary>Sets nprobe on the loaded model; the searcher shares its index with the loaded pipeline, so both scoring paths use it.</summary>
    /// <exception cref="UsageException">The model has no inverted lists, or the value exceeds its number of lists.</exception>
    public static void ApplyProbes(ModelFile model, int? probes)
    {
        if (probes is not { } value)
            return;
        if (!model.Searcher.SupportsProbes)
            throw new UsageException($"--probes applies to IVF models, but {model.Path} contains index kind {model.Searcher.IndexKind}, which has no inverted lists. Drop --probes or rebuild with index --type ivf-flat or ivf-pq.");
        try
        {
            model.Searcher.NumberOfProbes = value;
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new UsageException($"--probes {value} is out of range for {model.Path}: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
    }

    /// <summary>
    /// Writes the header and one row per returned neighbor, skipping padding (−1); returns the number of data rows.
    /// The header follows the first scored query (the first batch on the batch path), so a run that fails
    /// before any query is scored writes nothing to standard output.
    /// </summary>
    internal static long WriteCsv(TextWriter writer, IEnumerable<ScoredQuery> scored, NeighborSearcher searcher, IProgressSink sink)
    {
        bool headerWritten = false;
        long rows = 0;
        foreach (ScoredQuery query in scored)
        {
            if (!headerWritten)
            {
                writer.WriteLine(CsvHeader);
                headerWritten = true;
            }

            string queryId = CsvText.Format(query.QueryId);
            ReadOnlySpan<long> ids = query.Ids.Span;
            ReadOnlySpan<float> distances = query.Distances.Span;
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] == Evaluation.RankedList.Padding)
                    continue;
                writer.Write(queryId);
                writer.Write(',');
                writer.Write(CsvText.Format(i + 1));
                writer.Write(',');
                writer.Write(CsvText.Format(ids[i]));
                writer.Write(',');
                writer.Write(CsvText.Format(distances[i]));
                writer.Write(',');
                writer.WriteLine(CsvText.Quote(searcher.GetLabel(ids[i]) ?? ""));
                rows++;
            }

            sink.Advance(1);
        }

        if (!headerWritten)
            writer.WriteLine(CsvHeader);
        return rows;
    }

    /// <summary>Lets a using block flush standard output without closing it.</summary>
    internal sealed class NonClosingWriter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value) => inner.Write(value);

        public override void Write(string? value) => inner.Write(value);

        public override void WriteLine(string? value) => inner.WriteLine(value);

        public override void Flush() => inner.Flush();

        protected override void Dispose(bool disposing) => inner.Flush();
    }
}
