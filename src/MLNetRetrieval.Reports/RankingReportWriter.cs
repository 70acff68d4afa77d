using System.Globalization;
using MLNetRetrieval.Evaluation;

namespace MLNetRetrieval.Reports;

/// <summary>Writes a ranking evaluation as a folder with a Recall@R plot and an HTML page.</summary>
public static class RankingReportWriter
{
    /// <summary>File name of the Recall@R plot inside the report folder.</summary>
    public const string RecallPlotFileName = "recall_at_r.png";

    /// <summary>File name of the page inside the report folder.</summary>
    public const string PageFileName = "index.html";

    /// <summary>
    /// Writes <see cref="RecallPlotFileName"/> and <see cref="PageFileName"/> into <paramref name="directory"/>:
    /// the means table (Recall@R, precision@k, mAP, MAP@R) and the plot.
    /// </summary>
    /// <param name="directory">Output folder, created when missing; existing files of the same names are replaced.</param>
    /// <param name="reports">Title and report of each evaluated run, one table column and plot series each.</param>
    /// <param name="title">Page title.</param>
    /// <param name="notes">Optional lines shown under the title, for example the command that produced the report.</param>
    /// <returns>The path of the HTML page.</returns>
    /// <exception cref="ArgumentException">No report is given, or a report evaluated no query.</exception>
    public static string Write(string directory, IReadOnlyList<(string Title, RankingReport Report)> reports, string title = "Ranking evaluation", IEnumerable<string>? notes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0)
            throw new ArgumentException("No ranking report was given. Pass at least one.", nameof(reports));
        Directory.CreateDirectory(directory);

        ReportPlots.SaveRecallAtR(Path.Combine(directory, RecallPlotFileName), reports);

        var page = new HtmlReport(title);
        foreach (string note in notes ?? [])
            page.AddParagraph(note);
        var header = new List<string> { "Metric" };
        header.AddRange(reports.Select(r => r.Title));
        page.AddTable("Means over the evaluated queries", header, MetricRows(reports));
        page.AddImage(RecallPlotFileName, "Mean Recall@R over the cutoff R");
        string path = Path.Combine(directory, PageFileName);
        page.Save(path);
        return path;
    }

    private static IEnumerable<IReadOnlyList<string>> MetricRows(IReadOnlyList<(string Title, RankingReport Report)> reports)
    {
        RankingReport first = reports[0].Report;
        yield return Row("Queries evaluated", reports.Select(r => r.Report.EvaluatedQueryCount.ToString(CultureInfo.InvariantCulture)));
        yield return Row("Queries excluded (no relevant item)", reports.Select(r => r.Report.ExcludedQueryCount.ToString(CultureInfo.InvariantCulture)));
        foreach (int cutoff in first.RecallCutoffs)
            yield return Row($"Recall@{cutoff}", reports.Select(r => Format(r.Report.MeanRecall.FirstOrDefault(m => m.Cutoff == cutoff)?.Mean)));
        foreach (int cutoff in first.PrecisionCutoffs)
            yield return Row($"P@{cutoff}", reports.Select(r => Format(r.Report.MeanPrecision.FirstOrDefault(m => m.Cutoff == cutoff)?.Mean)));
        yield return Row("mAP", reports.Select(r => Format(r.Report.MeanAveragePrecision)));
        yield return Row("MAP@R", reports.Select(r => Format(r.Report.MeanMapAtR)));
    }

    private static string[] Row(string name, IEnumerable<string> cells) => [name, .. cells];

    private static string Format(double? value) => value is double number ? number.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
