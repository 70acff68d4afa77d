using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNetRetrieval.Evaluation;

/// <summary>Metrics of one query. Metric values are null when the query is excluded.</summary>
/// <param name="QueryId">Id of the query.</param>
/// <param name="RelevantCount">Relevant items in the collection for this query (N_rel, and the R of MAP@R).</param>
/// <param name="RankedCount">Scored positions, after padding and junk were removed.</param>
/// <param name="RemovedJunkCount">Junk items removed from the ranking.</param>
/// <param name="Excluded">True when the query has no relevant item, so it is left out of the means.</param>
/// <param name="RecallAt">Recall@K for each cutoff of <see cref="RankingReport.RecallCutoffs"/>, in that order.</param>
/// <param name="PrecisionAt">Precision@k for each cutoff of <see cref="RankingReport.PrecisionCutoffs"/>, in that order.</param>
/// <param name="AveragePrecision">Non-interpolated average precision over the whole ranking.</param>
/// <param name="MapAtR">MAP@R of this query.</param>
/// <param name="ShorterThanR">True when fewer than R positions were scored, so MAP@R counted the missing ones as misses.</param>
public sealed record QueryMetrics(
    long QueryId,
    int RelevantCount,
    int RankedCount,
    int RemovedJunkCount,
    bool Excluded,
    IReadOnlyList<double>? RecallAt,
    IReadOnlyList<double>? PrecisionAt,
    double? AveragePrecision,
    double? MapAtR,
    bool ShorterThanR);

/// <summary>Mean of a cutoff metric over the evaluated queries.</summary>
/// <param name="Cutoff">The cutoff K.</param>
/// <param name="Mean">The mean, or null when no query was evaluated.</param>
public sealed record MetricAtCutoff(int Cutoff, double? Mean);

/// <summary>
/// Result of <see cref="RankingEvaluator.Evaluate"/>: means over the evaluated queries, counts, and one
/// row per query. Records and lists only, so <see cref="JsonSerializer"/> writes and reads it as is.
/// </summary>
/// <param name="TieHandling">How equal distances were scored.</param>
/// <param name="EvaluatedQueryCount">Queries with at least one relevant item; the means average over these.</param>
/// <param name="ExcludedQueryCount">Queries without a relevant item, left out of the means.</param>
/// <param name="ShortRankingCount">Evaluated queries with fewer scored positions than R, whose MAP@R counted the missing positions as misses.</param>
/// <param name="RecallCutoffs">Cutoffs of Recall@K, in option order.</param>
/// <param name="PrecisionCutoffs">Cutoffs of precision@k, in option order.</param>
/// <param name="MeanRecall">Mean Recall@K per cutoff.</param>
/// <param name="MeanPrecision">Mean precision@k per cutoff.</param>
/// <param name="MeanAveragePrecision">mAP, or null when no query was evaluated.</param>
/// <param name="MeanMapAtR">Mean MAP@R, or null when no query was evaluated.</param>
/// <param name="Queries">One row per query, excluded ones included, in input order.</param>
public sealed record RankingReport(
    TieHandling TieHandling,
    int EvaluatedQueryCount,
    int ExcludedQueryCount,
    int ShortRankingCount,
    IReadOnlyList<int> RecallCutoffs,
    IReadOnlyList<int> PrecisionCutoffs,
    IReadOnlyList<MetricAtCutoff> MeanRecall,
    IReadOnlyList<MetricAtCutoff> MeanPrecision,
    double? MeanAveragePrecision,
    double? MeanMapAtR,
    IReadOnlyList<QueryMetrics> Queries)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Serialises the report to indented JSON, with enums as names.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The report.</returns>
    /// <exception cref="JsonException">The text is not a valid report.</exception>
    public static RankingReport FromJson(string json) =>
        JsonSerializer.Deserialize<RankingReport>(json, JsonOptions)
        ?? throw new JsonException("The JSON text is 'null', not a ranking report.");

    /// <summary>Formats the means and counts as a plain-text table, optionally followed by one row per query.</summary>
    /// <param name="includeQueries">Whether to add the per-query rows.</param>
    /// <param name="decimals">Decimals of every metric value.</param>
    /// <returns>The table; excluded queries and missing means show as "-".</returns>
    public string ToTable(bool includeQueries = false, int decimals = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Queries evaluated: {EvaluatedQueryCount}, excluded (no relevant item): {ExcludedQueryCount}, " +
            $"shorter than R: {ShortRankingCount}, ties: {TieHandling}");
        text.AppendLine("Metric        Mean");
        foreach (MetricAtCutoff recall in MeanRecall)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{"Recall@" + recall.Cutoff,-12}  {Format(recall.Mean, decimals)}");
        }

        foreach (MetricAtCutoff precision in MeanPrecision)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{"P@" + precision.Cutoff,-12}  {Format(precision.Mean, decimals)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"{"mAP",-12}  {Format(MeanAveragePrecision, decimals)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"MAP@R",-12}  {Format(MeanMapAtR, decimals)}");
        if (includeQueries)
        {
            AppendQueryRows(text, decimals);
        }

        return text.ToString();
    }

    private void AppendQueryRows(StringBuilder text, int decimals)
    {
        var header = new List<string> { "Query", "R", "Ranked", "Junk" };
        header.AddRange(RecallCutoffs.Select(cutoff => "Recall@" + cutoff.ToString(CultureInfo.InvariantCulture)));
        header.AddRange(PrecisionCutoffs.Select(cutoff => "P@" + cutoff.ToString(CultureInfo.InvariantCulture)));
        header.Add("AP");
        header.Add("MAP@R");
        text.AppendLine();
        text.AppendLine(string.Join('\t', header));
        foreach (QueryMetrics query in Queries)
        {
            var cells = new List<string>
            {
                query.QueryId.ToString(CultureInfo.InvariantCulture),
                query.RelevantCount.ToString(CultureInfo.InvariantCulture),
                query.RankedCount.ToString(CultureInfo.InvariantCulture),
                query.RemovedJunkCount.ToString(CultureInfo.InvariantCulture),
            };
            for (int k = 0; k < RecallCutoffs.Count; k++)
            {
                cells.Add(Format(query.RecallAt?[k], decimals));
            }

            for (int k = 0; k < PrecisionCutoffs.Count; k++)
            {
                cells.Add(Format(query.PrecisionAt?[k], decimals));
            }

            cells.Add(Format(query.AveragePrecision, decimals));
            cells.Add(Format(query.MapAtR, decimals) + (query.ShorterThanR ? " (short)" : ""));
            text.AppendLine(string.Join('\t', cells));
        }
    }

    private static string Format(double? value, int decimals) =>
        value is double number ? number.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";
}

/// <summary>Result of <see cref="RankingEvaluator.AnnRecall(IReadOnlyList{long[]}, IReadOnlyList{long[]}, int)"/>.</summary>
/// <param name="K">The cutoff k.</param>
/// <param name="Mean">Mean recall@k over all queries.</param>
/// <param name="PerQuery">Recall@k of each query, in input order.</param>
public sealed record AnnRecallReport(int K, double Mean, IReadOnlyList<double> PerQuery);
