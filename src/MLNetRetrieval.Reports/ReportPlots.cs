using System.Globalization;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Verification;
using ScottPlot;

namespace MLNetRetrieval.Reports;

/// <summary>One measured point of a speed–quality trade-off, such as one index setting.</summary>
/// <param name="Label">The series (index type or library) the point belongs to.</param>
/// <param name="Recall">Recall@k against exact neighbors, in [0, 1].</param>
/// <param name="QueriesPerSecond">Throughput, queries per second; positive.</param>
/// <param name="Setting">Optional setting shown next to the point, for example "nprobe=8".</param>
public sealed record RecallQpsPoint(string Label, double Recall, double QueriesPerSecond, string? Setting = null);

/// <summary>
/// Draws evaluation results as PNG files: ROC with a logarithmic FAR axis, precision–recall,
/// Recall@R over R, and recall against queries per second.
/// </summary>
/// <remarks>
/// Plots are drawn with ScottPlot 5 on SkiaSharp, in the font family <see cref="FontName"/>; on Linux
/// it must be installed (Debian package fonts-dejavu-core), or text falls back to whatever font Skia finds.
/// </remarks>
public static class ReportPlots
{
    /// <summary>Font family of every text on the plots.</summary>
    public const string FontName = "DejaVu Sans";

    /// <summary>Default image width in pixels.</summary>
    public const int Width = 800;

    /// <summary>Default image height in pixels.</summary>
    public const int Height = 600;

    /// <summary>Draws TAR over FAR for each report, with FAR on a log10 axis.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="curves">Legend text and report of each curve.</param>
    /// <param name="title">Plot title.</param>
    /// <remarks>
    /// A log axis cannot show FAR = 0, so each curve starts at its first point with FAR &gt; 0, and
    /// the axis starts one decade below the smallest such FAR (1/N for N impostor pairs).
    /// </remarks>
    /// <exception cref="ArgumentException">No curve is given.</exception>
    public static void SaveRoc(string path, IReadOnlyList<(string Label, VerificationReport Report)> curves, string title = "ROC")
    {
        CheckCurves(curves);
        Plot plot = NewPlot(title, "False accept rate (FAR, fraction of impostor pairs, log scale)", "True accept rate (TAR, fraction of genuine pairs)");
        double minimumFar = 1;
        foreach (var (label, report) in curves)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (RocPoint point in report.Roc)
            {
                if (point.FalseAcceptRate <= 0)
                    continue;
                xs.Add(Math.Log10(point.FalseAcceptRate));
                ys.Add(point.TrueAcceptRate);
                minimumFar = Math.Min(minimumFar, point.FalseAcceptRate);
            }

            AddLine(plot, xs, ys, $"{label} (AUC {report.AreaUnderRoc:F3}, EER {report.EqualErrorRate:F3})");
        }

        double left = Math.Floor(Math.Log10(minimumFar)) - (minimumFar == 1 ? 1 : 0);
        UseLogTicks(plot.Axes.Bottom);
        UseRateTicks(plot.Axes.Left);
        // A small margin left of the first decade keeps its tick label on the plot.
        plot.Axes.SetLimits(left - 0.05, 0.02, 0, 1.02);
        plot.ShowLegend(Alignment.UpperLeft);
        Save(plot, path);
    }

    /// <summary>Draws precision over recall of the pair decisions, one curve per report.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="curves">Legend text and report of each curve.</param>
    /// <param name="title">Plot title.</param>
    /// <remarks>
    /// At each ROC threshold, recall = TAR and precision = true accepts / (true accepts + false
    /// accepts), so precision depends on the genuine-to-impostor ratio of the pairs.
    /// </remarks>
    /// <exception cref="ArgumentException">No curve is given.</exception>
    public static void SavePrecisionRecall(string path, IReadOnlyList<(string Label, VerificationReport Report)> curves, string title = "Precision–recall")
    {
        CheckCurves(curves);
        Plot plot = NewPlot(title, "Recall (TAR, fraction of genuine pairs accepted)", "Precision (fraction of accepted pairs that are genuine)");
        foreach (var (label, report) in curves)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (RocPoint point in report.Roc)
            {
                int accepted = point.TrueAccepts + point.FalseAccepts;
                if (accepted == 0)
                    continue;
                xs.Add(point.TrueAcceptRate);
                ys.Add((double)point.TrueAccepts / accepted);
            }

            AddLine(plot, xs, ys, $"{label} ({report.GenuineCount} genuine / {report.ImpostorCount} impostor pairs)");
        }

        UseRateTicks(plot.Axes.Bottom);
        UseRateTicks(plot.Axes.Left);
        plot.Axes.SetLimits(0, 1.01, 0, 1.02);
        plot.ShowLegend(Alignment.LowerLeft);
        Save(plot, path);
    }

    /// <summary>Draws mean Recall@R over the cutoff R for each ranking report, with R on a log10 axis.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="reports">Legend text and report of each series.</param>
    /// <param name="title">Plot title.</param>
    /// <exception cref="ArgumentException">No report is given, or a report has no Recall@R mean.</exception>
    public static void SaveRecallAtR(string path, IReadOnlyList<(string Label, RankingReport Report)> reports, string title = "Recall@R")
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0)
            throw new ArgumentException("No ranking report was given. Pass at least one.", nameof(reports));
        Plot plot = NewPlot(title, "Cutoff R (positions, log scale)", "Recall@R (fraction of queries with a relevant item in the top R)");
        int largest = 1;
        foreach (var (label, report) in reports)
        {
            var means = report.MeanRecall.Where(m => m.Mean is not null).OrderBy(m => m.Cutoff).ToArray();
            if (means.Length == 0)
                throw new ArgumentException($"Report '{label}' has no Recall@R mean: it evaluated no query.", nameof(reports));
            largest = Math.Max(largest, means[^1].Cutoff);
            var scatter = AddLine(plot, means.Select(m => Math.Log10(m.Cutoff)).ToList(), means.Select(m => m.Mean!.Value).ToList(), label);
            scatter.MarkerSize = 8;
        }

        UseLogTicks(plot.Axes.Bottom);
        UseRateTicks(plot.Axes.Left);
        plot.Axes.SetLimits(-0.1, Math.Log10(largest) + 0.1, 0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        Save(plot, path);
    }

    /// <summary>Draws queries per second (log10 axis) over recall, one series per label.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="points">The measured points; each label becomes a line through its points sorted by recall.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="recallName">Name of the recall measure on the x axis, for example "Recall@10".</param>
    /// <exception cref="ArgumentException">No point is given, or a point has a non-positive QPS or a recall outside [0, 1].</exception>
    public static void SaveRecallQps(string path, IReadOnlyList<RecallQpsPoint> points, string title = "Recall–throughput", string recallName = "Recall")
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0)
            throw new ArgumentException("No recall–QPS point was given. Pass at least one.", nameof(points));
        foreach (RecallQpsPoint point in points)
        {
            if (!(point.QueriesPerSecond > 0) || !(point.Recall >= 0 && point.Recall <= 1))
                throw new ArgumentException($"Point '{point.Label}' has recall {point.Recall} and QPS {point.QueriesPerSecond}; recall must be in [0, 1] and QPS positive.", nameof(points));
        }

        Plot plot = NewPlot(title, $"{recallName} (fraction of exact neighbors found)", "Throughput (queries per second, log scale)");
        foreach (var series in points.GroupBy(p => p.Label))
        {
            RecallQpsPoint[] sorted = series.OrderBy(p => p.Recall).ToArray();
            var scatter = AddLine(plot, sorted.Select(p => p.Recall).ToList(), sorted.Select(p => Math.Log10(p.QueriesPerSecond)).ToList(), series.Key);
            scatter.MarkerSize = 8;
            foreach (RecallQpsPoint point in sorted.Where(p => p.Setting is not null))
            {
                // Anchored at its lower-left corner, the label sits up and to the right of its point, off the line.
                var text = plot.Add.Text(point.Setting!, point.Recall, Math.Log10(point.QueriesPerSecond));
                text.LabelFontSize = 12;
                text.LabelFontName = FontName;
                text.LabelAlignment = Alignment.LowerLeft;
                text.LabelOffsetX = 5;
                text.LabelOffsetY = -5;
            }
        }

        double low = Math.Floor(points.Min(p => Math.Log10(p.QueriesPerSecond)));
        double high = Math.Ceiling(points.Max(p => Math.Log10(p.QueriesPerSecond)));
        UseLogTicks(plot.Axes.Left);
        // Room right of the last point for its marker and setting label, which recall 1.0 would otherwise clip.
        double left = Math.Max(0, points.Min(p => p.Recall) - 0.02);
        double right = 1 + (0.12 * (1 - left));
        plot.Axes.SetLimits(left, right, low, high == low ? high + 1 : high);
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path);
    }

    private static void CheckCurves(IReadOnlyList<(string Label, VerificationReport Report)> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0)
            throw new ArgumentException("No verification report was given. Pass at least one.", nameof(curves));
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title, size: 20);
        plot.XLabel(xLabel, size: 15);
        plot.YLabel(yLabel, size: 15);
        plot.Legend.FontSize = 14;
        plot.Legend.FontName = FontName;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        return plot;
    }

    private static ScottPlot.Plottables.Scatter AddLine(Plot plot, List<double> xs, List<double> ys, string label)
    {
        var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 0;
        return scatter;
    }

    /// <summary>Puts a labelled tick every 0.1 on an axis of rates in [0, 1].</summary>
    private static void UseRateTicks(IAxis axis) => axis.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);

    /// <summary>Labels an axis whose coordinates are log10 values with the powers of ten they stand for.</summary>
    private static void UseLogTicks(IAxis axis)
    {
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = FormatPowerOfTen,
        };
    }

    private static string FormatPowerOfTen(double exponent)
    {
        double value = Math.Pow(10, exponent);
        return exponent >= 0 && exponent <= 5
            ? value.ToString("#,0", CultureInfo.InvariantCulture)
            : value.ToString("0e0", CultureInfo.InvariantCulture);
    }

    private static void Save(Plot plot, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        plot.SavePng(path, Width, Height);
    }
}
