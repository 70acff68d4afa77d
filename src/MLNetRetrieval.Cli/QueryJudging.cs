using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Cli;

/// <summary>
/// Turns scored queries into judged rankings, by equal labels or by explicit judgments, the way
/// <see cref="RetrievalCatalog.Evaluate"/> does, but streaming: each ranking is judged and handed to
/// the evaluator before the next query is scored, so a full ranking per query (k near the collection
/// size) never has to be held for all queries at once.
/// </summary>
internal static class QueryJudging
{
    /// <summary>Judges each query's neighbors as relevant when their label equals the query's label.</summary>
    /// <param name="scored">Scored queries in row order.</param>
    /// <param name="searcher">The model's search; supplies neighbor labels and the label counts.</param>
    /// <param name="queryLabels">Label of each query row.</param>
    /// <param name="leaveOneOut">
    /// Whether each query is itself a collection item under its id, so it does not count toward its own
    /// relevant items. When the index did not exclude it, its own id is also dropped from its ranking.
    /// </param>
    public static IEnumerable<JudgedRanking> ByLabels(IEnumerable<ScoredQuery> scored, NeighborSearcher searcher,
        IReadOnlyList<string> queryLabels, bool leaveOneOut)
    {
        string?[] itemLabels = [];
        long[] idsWithoutSelf = [];
        foreach (ScoredQuery query in scored)
        {
            ReadOnlyMemory<long> rankedIds = query.Ids;
            if (leaveOneOut && !searcher.ExcludeSelf && query.Ids.Span.Contains(query.QueryId))
            {
                // The index kept each query's own id, so it is turned into padding here, which the evaluator skips.
                if (idsWithoutSelf.Length != rankedIds.Length)
                    idsWithoutSelf = new long[rankedIds.Length];
                rankedIds.Span.CopyTo(idsWithoutSelf);
                idsWithoutSelf.AsSpan().Replace(query.QueryId, RankedList.Padding);
                rankedIds = idsWithoutSelf;
            }

            ReadOnlySpan<long> ids = rankedIds.Span;
            if (itemLabels.Length != ids.Length)
                itemLabels = new string?[ids.Length];
            for (int i = 0; i < ids.Length; i++)
                itemLabels[i] = ids[i] == RankedList.Padding ? null : searcher.GetLabel(ids[i]);

            string queryLabel = queryLabels[query.Row];
            int relevantCount = searcher.LabelCounts.GetValueOrDefault(queryLabel);
            if (leaveOneOut && searcher.GetLabel(query.QueryId) == queryLabel)
                relevantCount--;
            var ranking = new RankedList(query.QueryId, rankedIds, query.Distances);
            yield return LabelRelevance.JudgeByLabels(ranking, queryLabel, itemLabels, relevantCount);
        }
    }

    /// <summary>Judges each query's neighbors by the grades in <paramref name="judgments"/>.</summary>
    public static IEnumerable<JudgedRanking> ByJudgments(IEnumerable<ScoredQuery> scored, JudgmentRelevance judgments)
    {
        foreach (ScoredQuery query in scored)
            yield return judgments.Judge(new RankedList(query.QueryId, query.Ids, query.Distances));
    }
}
