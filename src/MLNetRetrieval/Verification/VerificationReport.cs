using System.Globalization;
using System.Text;

namespace MLNetRetrieval.Verification;

/// <summary>Result of <see cref="VerificationEvaluator.Evaluate(ReadOnlySpan{float}, ReadOnlySpan{bool}, VerificationEvaluatorOptions?)"/>.</summary>
/// <param name="GenuineCount">Genuine (same-identity) pairs, P.</param>
/// <param name="ImpostorCount">Impostor pairs, N.</param>
/// <param name="Roc">ROC points, thresholds descending from +∞.</param>
/// <param name="TarAtFar">One operating point per FAR target, in option order.</param>
/// <param name="EqualErrorRate">
/// EER: where FAR = FRR, linearly interpolated between the first ROC point with FAR ≥ FRR and its predecessor.
/// </param>
/// <param name="EqualErrorThreshold">Threshold of the first ROC point with FAR ≥ FRR.</param>
/// <param name="AreaUnderRoc">AUC by the trapezoidal rule (the Mann–Whitney statistic, ties counted ½).</param>
/// <param name="Accuracy">The k-fold best-threshold accuracy, or null when skipped.</param>
public sealed record VerificationReport(
    int GenuineCount,
    int ImpostorCount,
    IReadOnlyList<RocPoint> Roc,
    IReadOnlyList<TarAtFar> TarAtFar,
    double EqualErrorRate,
    float EqualErrorThreshold,
    double AreaUnderRoc,
    CrossValidatedAccuracy? Accuracy)
{
    /// <summary>Formats the metrics of several reports side by side, one column per report.</summary>
    /// <param name="reports">Column title and report, in column order.</param>
    /// <returns>
    /// A plain-text table. A TAR@FAR value whose target is below 1/N is marked "*" and a footnote explains that
    /// it is the FAR = 0 point.
    /// </returns>
    public static string FormatTable(IReadOnlyList<(string Title, VerificationReport Report)> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var rows = new List<(string Name, string[] Cells)>();
        if (reports.Count == 0)
            return string.Empty;

        VerificationReport first = reports[0].Report;
        rows.Add(("Pairs (genuine/impostor)", reports.Select(r => Invariant($"{r.Report.GenuineCount}/{r.Report.ImpostorCount}")).ToArray()));
        for (int i = 0; i < first.TarAtFar.Count; i++)
        {
            int index = i;
            string name = "TAR@FAR=" + first.TarAtFar[i].TargetFalseAcceptRate.ToString("0.#e+0", CultureInfo.InvariantCulture);
            rows.Add((name, reports.Select(r => FormatTar(r.Report.TarAtFar, index)).ToArray()));
        }

        rows.Add(("EER", reports.Select(r => Invariant($"{r.Report.EqualErrorRate:F4}")).ToArray()));
        rows.Add(("AUC", reports.Select(r => Invariant($"{r.Report.AreaUnderRoc:F4}")).ToArray()));
        if (reports.All(r => r.Report.Accuracy is not null))
        {
            string name = Invariant($"Accuracy ({first.Accuracy!.Folds.Count}-fold)");
            rows.Add((name, reports.Select(r => Invariant($"{r.Report.Accuracy!.Mean:F4} ± {r.Report.Accuracy.StandardDeviation:F4}")).ToArray()));
        }

        int nameWidth = rows.Max(r => r.Name.Length);
        int[] widths = Enumerable.Range(0, reports.Count)
            .Select(c => Math.Max(reports[c].Title.Length, rows.Max(r => r.Cells[c].Length)))
            .ToArray();
        var text = new StringBuilder();
        text.Append("Metric".PadRight(nameWidth));
        for (int c = 0; c < reports.Count; c++)
            text.Append("  ").Append(reports[c].Title.PadLeft(widths[c]));
        text.AppendLine();
        foreach (var (name, cells) in rows)
        {
            text.Append(name.PadRight(nameWidth));
            for (int c = 0; c < cells.Length; c++)
                text.Append("  ").Append(cells[c].PadLeft(widths[c]));
            text.AppendLine();
        }

        if (reports.Any(r => r.Report.TarAtFar.Any(t => t.BelowResolution)))
            text.AppendLine("* target below 1/impostor pairs: the value is TAR at FAR = 0.");
        return text.ToString();
    }

    /// <summary>Formats this report alone; see <see cref="FormatTable"/>.</summary>
    /// <param name="title">Column title.</param>
    /// <returns>The plain-text table.</returns>
    public string ToTable(string title = "Value") => FormatTable([(title, this)]);

    private static string FormatTar(IReadOnlyList<TarAtFar> points, int index)
    {
        if (index >= points.Count)
            return "-";
        TarAtFar point = points[index];
        return Invariant($"{point.TrueAcceptRate:F4}") + (point.BelowResolution ? "*" : " ");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
