using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.IO;
using MLNetRetrieval.Reports;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary><c>evaluate</c>: scores labeled or judged queries with a saved model and prints the ranking metrics.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model zip written by the index command.",
            HelpName = "FILE",
            Required = true,
        };
        var queries = new VectorInputOptions("--queries", "Vector file with the queries. Relevance comes from query labels (--labels or --label-column: a neighbor is relevant when its label equals the query's) or from --judgments.");
        var judgments = new Option<string?>("--judgments")
        {
            Description = "CSV with query_id,item_id,grade rows; grades are positive, easy, hard, junk, negative, or integers (> 0 positive, 0 negative, < 0 junk). Query ids match --ids / --id-column, else row numbers from 0.",
            HelpName = "FILE",
        };
        Option<string> protocol = CliCommands.CreateChoice("--protocol",
            "How judgment grades count (Revisited Oxford and Paris settings): 'standard' and 'medium' count easy and hard as relevant; 'easy' turns hard into junk; 'hard' turns easy into junk. Junk is removed from the ranking.",
            "standard", "standard", "easy", "medium", "hard");
        Option<int[]> recall = CliCommands.CreateCutoffsOption("--recall", "Cutoffs K of Recall@K (the fraction of queries with a relevant item in the top K), comma-separated.", [1, 10, 100]);
        Option<int[]> precision = CliCommands.CreateCutoffsOption("--precision", "Cutoffs k of precision@k, comma-separated.", [1, 10]);
        Option<string> ties = CliCommands.CreateChoice("--ties",
            "Scoring of equal distances: 'as-ranked' scores the order returned (equal distances rank the lower id first); 'average' takes the expected value over all orders of each group of ties.",
            "as-ranked", "as-ranked", "average");
        var leaveOneOut = new Option<bool>("--leave-one-out")
        {
            Description = "Label mode: each query is a collection item under its id, so it does not count as relevant to itself. For a model built without --exclude-self, each query's own id is also dropped from its ranking, which then has k - 1 neighbors. On by default when the model was built with --exclude-self.",
        };
        var perQuery = new Option<string?>("--per-query")
        {
            Description = "Also write one CSV row of metrics per query to this file.",
            HelpName = "FILE",
        };
        Option<string?> reportFolder = CliCommands.CreateRankingReportOption();
        Option<string> scoring = CliCommands.CreateScoringOption();
        Option<int> threads = CliContext.CreateThreadsOption("batch scoring (--scoring batch or auto)");
        Option<int?> probes = SearchCommand.CreateProbesOption();
        Option<int?> ef = HnswTypeOptions.CreateSearchEfOption();
        Option<string?> transform = TransformModelFile.CreateOption("the search, for a model indexed on embedded vectors");

        var command = new Command("evaluate", "Score queries with a saved model and print Recall@K, precision@k, mAP and MAP@R.");
        command.Add(model);
        queries.AddTo(command);
        command.Add(judgments);
        command.Add(protocol);
        command.Add(recall);
        command.Add(precision);
        command.Add(ties);
        command.Add(leaveOneOut);
        command.Add(perQuery);
        command.Add(reportFolder);
        command.Add(scoring);
        command.Add(threads);
        command.Add(probes);
        command.Add(ef);
        command.Add(transform);
        command.SetAction(parse =>
        {
            var metrics = new RankingEvaluatorOptions
            {
                RecallCutoffs = parse.GetValue(recall)!,
                PrecisionCutoffs = parse.GetValue(precision)!,
                TieHandling = CliCommands.ParseTies(parse.GetValue(ties)!),
            };
            var settings = new EvaluateSettings(probes, ef, parse.GetValue(model)!, queries, parse, parse.GetValue(judgments),
                parse.GetResult(protocol) is { Implicit: false }, CliCommands.ParseProtocol(parse.GetValue(protocol)!), metrics,
                parse.GetValue(leaveOneOut), parse.GetValue(perQuery), parse.GetValue(reportFolder), CliCommands.ParseScoring(parse.GetValue(scoring)!),
                parse.GetValue(threads), parse.GetValue(transform), parse.GetValue(context.Json));
            return Run(context, settings);
        });
        return command;
    }

    private sealed record EvaluateSettings(Option<int?> Probes, Option<int?> Ef, string ModelPath, VectorInputOptions Queries, ParseResult Parse, string? JudgmentsPath,
        bool ProtocolGiven, JudgmentProtocol Protocol, RankingEvaluatorOptions Metrics, bool LeaveOneOut, string? PerQueryPath,
        string? ReportFolder, ScoringPath Scoring, int Threads, string? TransformPath, bool Json);

    private static int Run(CliContext context, EvaluateSettings settings)
    {
        CliConsole console = context.Console;
        var clock = Stopwatch.StartNew();
        if (settings.ProtocolGiven && settings.JudgmentsPath is null)
            throw new UsageException("--protocol applies only to --judgments; pass a judgments file or drop --protocol.");
        using AtomicFile? perQueryFile = settings.PerQueryPath is null ? null : new AtomicFile(settings.PerQueryPath);

        var ml = new MLContext(seed: 1);
        ModelFile model = ModelFile.Load(ml, settings.ModelPath);
        SearchCommand.ApplyProbes(model, settings.Parse.GetValue(settings.Probes));
        HnswTypeOptions.ApplySearchEf(model, settings.Parse.GetValue(settings.Ef));
        string queriesPath = settings.Parse.GetValue(settings.Queries.Path)!;
        TransformModelFile? transform = SearchCommand.LoadTransform(ml, model, settings.TransformPath);
        VectorSet queries = settings.Queries.Read(settings.Parse);
        if (transform is not null)
            queries = transform.Apply(ml, queries, queriesPath, context.CancellationToken);
        IReadOnlyList<Judgment>? judgments = settings.JudgmentsPath is null ? null : ReadJudgments(settings.JudgmentsPath);
        if (judgments is null)
            CheckLabelMode(model, queries, queriesPath);

        int k = model.Searcher.NumberOfNeighbors;
        WarnAboutCutoffsAboveK(console, settings.Metrics, k);
        IEnumerable<ScoredQuery> scored = QueryScoring.Score(ml, model, queries, queriesPath, k, settings.Scoring, settings.Threads, context.CancellationToken);
        RankingReport report = console.RunWithProgress("Evaluating", queries.Count, sink =>
        {
            IEnumerable<ScoredQuery> counted = WithProgress(scored, sink);
            IEnumerable<JudgedRanking> judged = judgments is null
                ? QueryJudging.ByLabels(counted, model.Searcher, queries.Labels!, settings.LeaveOneOut || model.Searcher.ExcludeSelf)
                : QueryJudging.ByJudgments(counted, new JudgmentRelevance(judgments, settings.Protocol));
            return RankingEvaluator.Evaluate(judged, settings.Metrics, context.CancellationToken);
        });

        if (perQueryFile is not null)
        {
            using (StreamWriter writer = CsvText.CreateWriter(perQueryFile.TemporaryPath))
                WritePerQuery(writer, report);
            perQueryFile.Commit();
        }

        if (settings.ReportFolder is not null)
        {
            string relevance = judgments is null ? "labels" : $"judgments in {settings.JudgmentsPath} ({settings.Protocol.ToString().ToLowerInvariant()} protocol)";
            string[] notes =
            [
                string.Create(CultureInfo.InvariantCulture, $"Model: {model.Path} (index type {model.Searcher.IndexKind}, {model.Searcher.Count} vectors, k = {k})."),
                string.Create(CultureInfo.InvariantCulture, $"Queries: {queriesPath} ({queries.Count} vectors), relevance from {relevance}, ties: {report.TieHandling}."),
            ];
            WriteReport(console, settings.ReportFolder, Path.GetFileNameWithoutExtension(model.Path), report, "Ranking evaluation", notes);
        }

        if (settings.Json)
        {
            console.Out.WriteLine(report.ToJson());
            return ExitCodes.Success;
        }

        console.Write(MetricsTable(report, k));
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Queries evaluated: {report.EvaluatedQueryCount}, excluded (no relevant item): {report.ExcludedQueryCount}, shorter than R: {report.ShortRankingCount}, k: {k}, ties: {report.TieHandling}, time: {CliCommands.FormatSeconds(clock.Elapsed.TotalSeconds)}"));
        if (perQueryFile is not null)
            console.Info($"Per-query metrics written to {perQueryFile.Path}.");
        return ExitCodes.Success;
    }

    private static void CheckLabelMode(ModelFile model, VectorSet queries, string queriesPath)
    {
        if (queries.Labels is null)
            throw new UsageException($"{queriesPath}: the queries have no labels. Pass --labels FILE or --label-column NAME for label relevance, or --judgments FILE.");
        if (!model.Searcher.HasLabels)
            throw new UsageException($"{model.Path}: the index was built without labels, so label relevance is not possible. Rebuild it with --labels or --label-column, or pass --judgments FILE.");
    }

    /// <summary>Reads a judgments file and maps its grades to <see cref="JudgmentGrade"/>.</summary>
    internal static IReadOnlyList<Judgment> ReadJudgments(string path)
    {
        IReadOnlyList<JudgmentRow> rows = JudgmentFile.Read(path);
        var judgments = new Judgment[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            JudgmentRow row = rows[i];
            judgments[i] = new Judgment(row.QueryId, row.ItemId, ToGrade(row));
        }

        return judgments;
    }

    // NOTE: integer grades follow TREC qrels, where 0 is non-relevant and positive grades are relevant.
    // TREC gives negative grades no single meaning, so mapping them to junk is this tool's choice.
    private static JudgmentGrade ToGrade(JudgmentRow row) => row.Grade switch
    {
        "positive" => JudgmentGrade.Positive,
        "easy" => JudgmentGrade.Easy,
        "hard" => JudgmentGrade.Hard,
        "junk" => JudgmentGrade.Junk,
        "negative" => JudgmentGrade.Negative,
        _ => row.NumericGrade switch
        {
            > 0 => JudgmentGrade.Positive,
            0 => JudgmentGrade.Negative,
            _ => JudgmentGrade.Junk,
        },
    };

    internal static IEnumerable<ScoredQuery> WithProgress(IEnumerable<ScoredQuery> scored, IProgressSink sink)
    {
        foreach (ScoredQuery query in scored)
        {
            yield return query;
            sink.Advance(1);
        }
    }

    /// <summary>Writes the Recall@R plot and the HTML page of <paramref name="report"/> into <paramref name="folder"/> (--report).</summary>
    /// <exception cref="InvalidDataException">No query was evaluated, so there is nothing to plot.</exception>
    internal static void WriteReport(CliConsole console, string folder, string seriesTitle, RankingReport report, string pageTitle, IEnumerable<string> notes)
    {
        if (report.EvaluatedQueryCount == 0)
            throw new InvalidDataException($"--report {folder}: no query was evaluated because none has a relevant item, so there is no Recall@R to plot. Check the labels or judgments.");
        string page = RankingReportWriter.Write(folder, [(seriesTitle, report)], pageTitle, notes);
        console.Info($"Report written to {page} with {Path.Combine(folder, RankingReportWriter.RecallPlotFileName)}.");
    }

    /// <summary>
    /// Warns on standard error, also under --quiet, when a cutoff exceeds the model's k: the ranking
    /// holds only k neighbors, so Recall@K and P@K above k are computed from the top k and understate the true values.
    /// </summary>
    private static void WarnAboutCutoffsAboveK(CliConsole console, RankingEvaluatorOptions metrics, int k)
    {
        string[] truncated =
        [
            .. metrics.RecallCutoffs.Where(cutoff => cutoff > k).Select(cutoff => "Recall@" + cutoff.ToString(CultureInfo.InvariantCulture)),
            .. metrics.PrecisionCutoffs.Where(cutoff => cutoff > k).Select(cutoff => "P@" + cutoff.ToString(CultureInfo.InvariantCulture)),
        ];
        if (truncated.Length > 0)
        {
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warning: {string.Join(", ", truncated)}: cutoffs above the model's k = {k} count only the top {k} neighbors, so these values can be lower than the true ones. Rebuild the index with a larger --k, or lower --recall and --precision."));
        }
    }

    /// <summary>Builds the table of mean metrics; with <paramref name="k"/>, cutoffs above it are marked as truncated.</summary>
    internal static Table MetricsTable(RankingReport report, int? k = null)
    {
        var table = CliConsole.CreateTable().AddColumn("Metric").AddColumn(new TableColumn("Mean").RightAligned());
        foreach (MetricAtCutoff recall in report.MeanRecall)
            table.AddRow("Recall@" + recall.Cutoff.ToString(CultureInfo.InvariantCulture) + TruncationMark(recall.Cutoff, k), FormatMetric(recall.Mean));
        foreach (MetricAtCutoff precision in report.MeanPrecision)
            table.AddRow("P@" + precision.Cutoff.ToString(CultureInfo.InvariantCulture) + TruncationMark(precision.Cutoff, k), FormatMetric(precision.Mean));
        table.AddRow("mAP", FormatMetric(report.MeanAveragePrecision));
        table.AddRow("MAP@R", FormatMetric(report.MeanMapAtR));
        return table;
    }

    private static string TruncationMark(int cutoff, int? k) =>
        cutoff > k ? string.Create(CultureInfo.InvariantCulture, $" (truncated at k = {k})") : "";

    internal static string FormatMetric(double? value) => value is double number ? number.ToString("F4", CultureInfo.InvariantCulture) : "-";

    private static void WritePerQuery(TextWriter writer, RankingReport report)
    {
        var header = new List<string> { "query_id", "relevant_count", "ranked_count", "removed_junk_count", "excluded" };
        header.AddRange(report.RecallCutoffs.Select(cutoff => "recall_at_" + cutoff.ToString(CultureInfo.InvariantCulture)));
        header.AddRange(report.PrecisionCutoffs.Select(cutoff => "precision_at_" + cutoff.ToString(CultureInfo.InvariantCulture)));
        header.Add("average_precision");
        header.Add("map_at_r");
        header.Add("shorter_than_r");
        writer.WriteLine(string.Join(',', header));
        foreach (QueryMetrics query in report.Queries)
        {
            var cells = new List<string>
            {
                CsvText.Format(query.QueryId),
                CsvText.Format(query.RelevantCount),
                CsvText.Format(query.RankedCount),
                CsvText.Format(query.RemovedJunkCount),
                query.Excluded ? "true" : "false",
            };
            for (int i = 0; i < report.RecallCutoffs.Count; i++)
                cells.Add(CsvText.Format(query.RecallAt?[i]));
            for (int i = 0; i < report.PrecisionCutoffs.Count; i++)
                cells.Add(CsvText.Format(query.PrecisionAt?[i]));
            cells.Add(CsvText.Format(query.AveragePrecision));
            cells.Add(CsvText.Format(query.MapAtR));
            cells.Add(query.ShorterThanR ? "true" : "false");
            writer.WriteLine(string.Join(',', cells));
        }
    }
}
