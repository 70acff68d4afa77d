using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Evaluation;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Settings of <see cref="RetrievalCatalog.Evaluate(IDataView, NeighborSearcher, RetrievalEvaluationOptions?)"/>:
/// which scored columns to read and how relevance is decided.
/// </summary>
/// <remarks>
/// Relevance comes from exactly one source: the query label column (an item is relevant when its
/// label equals the query's), or <see cref="Judgments"/> (explicit query, item, grade triples with
/// the Oxford/Paris junk protocol).
/// </remarks>
public sealed class RetrievalEvaluationOptions
{
    /// <summary>Scored column with neighbor ids (vector of Int64).</summary>
    public string NeighborIdsColumnName { get; set; } = NeighborSearchOptions.Defaults.NeighborIdsColumnName;

    /// <summary>Scored column with distances (vector of Single), used for tie-aware scoring.</summary>
    public string DistancesColumnName { get; set; } = NeighborSearchOptions.Defaults.DistancesColumnName;

    /// <summary>Scored column with neighbor labels (vector of Text), read in label mode.</summary>
    public string NeighborLabelsColumnName { get; set; } = NeighborSearchOptions.Defaults.NeighborLabelsColumnName;

    /// <summary>Query label column; set it to judge relevance by equal labels.</summary>
    public string? LabelColumnName { get; set; }

    /// <summary>Query id column (integer type); needed with <see cref="Judgments"/>. Without it, queries are numbered by row from 0.</summary>
    public string? QueryIdColumnName { get; set; }

    /// <summary>Explicit relevance judgments; set them to judge relevance by grade instead of by label.</summary>
    public IReadOnlyList<Judgment>? Judgments { get; set; }

    /// <summary>How judgment grades map to relevant and junk (Revisited Oxford/Paris settings).</summary>
    public JudgmentProtocol Protocol { get; set; } = JudgmentProtocol.Standard;

    /// <summary>
    /// In label mode, whether each query is itself a collection item under its query id (leave-one-out):
    /// it then does not count as relevant to itself. Defaults to the searcher's <see cref="NeighborSearcher.ExcludeSelf"/>.
    /// </summary>
    public bool? LeaveOneOut { get; set; }

    /// <summary>Cutoffs, tie handling and short-ranking policy of the metrics.</summary>
    public Evaluation.RankingEvaluatorOptions Metrics { get; set; } = new();

    /// <summary>Stops the evaluation early with <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }
}

/// <summary>Reads scored rows and judges each query's ranking for the ranking evaluator.</summary>
internal static class RetrievalEvaluation
{
    public static RankingReport Evaluate(IDataView scored, NeighborSearcher searcher, RetrievalEvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(scored);
        ArgumentNullException.ThrowIfNull(searcher);
        ArgumentNullException.ThrowIfNull(options);
        bool byLabel = options.LabelColumnName is not null;
        if (byLabel == (options.Judgments is not null))
            throw new ArgumentException("Set exactly one source of relevance: LabelColumnName (same label is relevant) or Judgments.", nameof(options));
        if (byLabel && !searcher.HasLabels)
            throw new ArgumentException("Label-based evaluation needs a collection with labels; the searcher's collection had no label column. Refit with LabelColumnName or pass Judgments.", nameof(options));
        if (!byLabel && options.QueryIdColumnName is null)
            throw new ArgumentException("Judgment-based evaluation needs QueryIdColumnName, so each scored row can be matched to its judgments.", nameof(options));

        DataViewSchema schema = scored.Schema;
        DataViewSchema.Column idsColumn = CheckVector(schema, options.NeighborIdsColumnName, NumberDataViewType.Int64);
        DataViewSchema.Column distancesColumn = CheckVector(schema, options.DistancesColumnName, NumberDataViewType.Single);
        DataViewSchema.Column? labelsColumn = byLabel ? CheckVector(schema, options.NeighborLabelsColumnName, TextDataViewType.Instance) : null;
        DataViewSchema.Column? queryLabelColumn = byLabel ? SchemaChecks.CheckLabelColumn(schema, options.LabelColumnName!, "scored") : null;
        DataViewSchema.Column? queryIdColumn = options.QueryIdColumnName is { } qid ? SchemaChecks.CheckIdColumn(schema, qid, "scored") : null;

        bool leaveOneOut = options.LeaveOneOut ?? searcher.ExcludeSelf;
        if (byLabel && leaveOneOut && queryIdColumn is null)
            throw new ArgumentException("Leave-one-out evaluation needs QueryIdColumnName to find each query in the collection.", nameof(options));

        JudgmentRelevance? judgments = byLabel ? null : new JudgmentRelevance(options.Judgments!, options.Protocol);
        var rankings = new List<JudgedRanking>();
        var columns = new List<DataViewSchema.Column> { idsColumn, distancesColumn };
        if (labelsColumn is { } lc) columns.Add(lc);
        if (queryLabelColumn is { } qlc) columns.Add(qlc);
        if (queryIdColumn is { } qic) columns.Add(qic);

        using DataViewRowCursor cursor = scored.GetRowCursor(columns);
        var getIds = cursor.GetGetter<VBuffer<long>>(idsColumn);
        var getDistances = cursor.GetGetter<VBuffer<float>>(distancesColumn);
        var getLabels = labelsColumn is { } l ? cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(l) : null;
        Func<string>? getQueryLabel = queryLabelColumn is { } ql ? ColumnReaders.CreateLabelGetter(cursor, ql) : null;
        Func<long>? getQueryId = queryIdColumn is { } qi ? ColumnReaders.CreateIdGetter(cursor, qi) : null;
        VBuffer<long> ids = default;
        VBuffer<float> distances = default;
        VBuffer<ReadOnlyMemory<char>> labels = default;
        long row = 0;
        while (cursor.MoveNext())
        {
            if ((row & 255) == 0)
                options.CancellationToken.ThrowIfCancellationRequested();
            getIds(ref ids);
            getDistances(ref distances);
            long queryId = getQueryId?.Invoke() ?? row;
            var ranking = new RankedList(queryId, ids.DenseValues().ToArray(), distances.DenseValues().ToArray());
            if (judgments is not null)
            {
                rankings.Add(judgments.Judge(ranking));
            }
            else
            {
                getLabels!(ref labels);
                string queryLabel = getQueryLabel!();
                int relevantCount = searcher.LabelCounts.GetValueOrDefault(queryLabel);
                if (leaveOneOut && searcher.GetLabel(queryId) == queryLabel)
                    relevantCount--;
                string?[] itemLabels = labels.DenseValues().Select(v => (string?)v.ToString()).ToArray();
                rankings.Add(LabelRelevance.JudgeByLabels(ranking, queryLabel, itemLabels, relevantCount));
            }

            row++;
        }

        return RankingEvaluator.Evaluate(rankings, options.Metrics, options.CancellationToken);
    }

    private static DataViewSchema.Column CheckVector(DataViewSchema schema, string name, DataViewType itemType)
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The scored data has no column '{name}' (vector of {itemType}). Score the queries with the searching transformer first, or set the column name in the options.");
        if (column.Type is not VectorDataViewType vector || vector.ItemType != itemType)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The scored column '{name}' has type {column.Type}; expected a vector of {itemType}.");
        return column;
    }
}
