namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Scores retrieval rankings: Recall@K, precision@k, mean average precision (mAP) and MAP@R, plus ANN
/// recall@k against exact neighbours.
/// </summary>
/// <remarks>
/// <para>
/// Notation for one query: positions i = 1, 2, … after padding and junk removal; rel_i = 1 when the
/// item at i is relevant; hits(K) = Σ_{i ≤ K} rel_i; P@i = hits(i)/i; N_rel = number of relevant
/// items in the whole collection, retrieved or not.
/// </para>
/// <list type="bullet">
/// <item>Recall@K = 1 if hits(K) &gt; 0, else 0. Its mean is the share of queries with a relevant
/// item in the top K (the Recall@K of metric-learning papers, not hits(K)/N_rel).</item>
/// <item>Precision@k = hits(k)/k. A ranking shorter than k counts the missing positions as misses.</item>
/// <item>AP = (1/N_rel) Σ_i P@i · rel_i over the whole ranking, without interpolation. Relevant items
/// that were not retrieved add 0, so a truncated ranking is penalised. mAP is the mean AP.</item>
/// <item>MAP@R (Musgrave, Belongie and Lim, "A Metric Learning Reality Check", ECCV 2020): with
/// R = N_rel, MAP@R = (1/R) Σ_{i=1..R} P@i · rel_i. It needs at least R positions; see
/// <see cref="ShortRankingHandling"/> for shorter rankings.</item>
/// </list>
/// <para>
/// A query with N_rel = 0 gets a row marked excluded, stays out of every mean and is counted in
/// <see cref="RankingReport.ExcludedQueryCount"/>. With <see cref="TieHandling.Average"/> every value is
/// the expectation over all orderings of each run of equal distances.
/// </para>
/// <para>
/// NOTE: the evaluation code published with the revisited Oxford and Paris benchmarks (revisitop,
/// python/evaluate.py) integrates AP with the trapezoidal rule and caps precision@k at the rank of the
/// last relevant item, so its numbers differ slightly from the definitions here.
/// </para>
/// </remarks>
public static class RankingEvaluator
{
    /// <summary>Scores every judged ranking and averages over the queries that have a relevant item.</summary>
    /// <param name="rankings">One judged ranking per query, read once in order.</param>
    /// <param name="options">Cutoffs and tie handling; null uses the defaults.</param>
    /// <param name="cancellationToken">Checked before each query.</param>
    /// <returns>Means, counts and per-query rows.</returns>
    /// <exception cref="ArgumentException">
    /// An option is invalid, a ranking has no distances under <see cref="TieHandling.Average"/>, or a ranking is
    /// shorter than R under <see cref="ShortRankingHandling.Reject"/>.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static RankingReport Evaluate(
        IEnumerable<JudgedRanking> rankings, RankingEvaluatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        options ??= new RankingEvaluatorOptions();
        options.Validate();
        int[] recallCutoffs = [.. options.RecallCutoffs];
        int[] precisionCutoffs = [.. options.PrecisionCutoffs];

        var rows = new List<QueryMetrics>();
        var recallSums = new double[recallCutoffs.Length];
        var precisionSums = new double[precisionCutoffs.Length];
        double averagePrecisionSum = 0;
        double mapAtRSum = 0;
        int evaluated = 0;
        int shortRankings = 0;
        foreach (JudgedRanking ranking in rankings)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ArgumentNullException.ThrowIfNull(ranking, nameof(rankings));
            QueryMetrics row = QueryScorer.Score(ranking, options);
            rows.Add(row);
            if (row.Excluded)
            {
                continue;
            }

            evaluated++;
            shortRankings += row.ShorterThanR ? 1 : 0;
            for (int k = 0; k < recallCutoffs.Length; k++)
            {
                recallSums[k] += row.RecallAt![k];
            }

            for (int k = 0; k < precisionCutoffs.Length; k++)
            {
                precisionSums[k] += row.PrecisionAt![k];
            }

            averagePrecisionSum += row.AveragePrecision!.Value;
            mapAtRSum += row.MapAtR!.Value;
        }

        double? Mean(double sum) => evaluated == 0 ? null : sum / evaluated;
        return new RankingReport(
            options.TieHandling,
            evaluated,
            rows.Count - evaluated,
            shortRankings,
            recallCutoffs,
            precisionCutoffs,
            recallCutoffs.Select((cutoff, k) => new MetricAtCutoff(cutoff, Mean(recallSums[k]))).ToArray(),
            precisionCutoffs.Select((cutoff, k) => new MetricAtCutoff(cutoff, Mean(precisionSums[k]))).ToArray(),
            Mean(averagePrecisionSum),
            Mean(mapAtRSum),
            rows);
    }

    /// <summary>
    /// Measures how many of the exact k nearest neighbours an approximate search returned:
    /// recall@k = |returned top k ∩ true top k| / k, averaged over queries.
    /// </summary>
    /// <param name="returnedIds">Ids returned for each query, best first; only the first k entries count and padding (−1) is skipped.</param>
    /// <param name="trueIds">Exact neighbour ids of each query, best first, at least k of them.</param>
    /// <param name="k">The cutoff.</param>
    /// <returns>The mean and per-query recall@k.</returns>
    /// <remarks>
    /// Matching is by id, so when several true neighbours share the k-th distance, a returned item that
    /// ties with the k-th true neighbour but has another id counts as a miss. A returned id that repeats
    /// counts once.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// The lists differ in query count or are empty, k is below 1, or a ground-truth row has fewer than k ids.
    /// </exception>
    public static AnnRecallReport AnnRecall(IReadOnlyList<long[]> returnedIds, IReadOnlyList<long[]> trueIds, int k)
    {
        ArgumentNullException.ThrowIfNull(returnedIds);
        ArgumentNullException.ThrowIfNull(trueIds);
        ValidateAnnArguments(returnedIds.Count, trueIds.Count, k);
        var perQuery = new double[returnedIds.Count];
        var truth = new HashSet<long>(k);
        for (int q = 0; q < perQuery.Length; q++)
        {
            perQuery[q] = AnnRecallOfQuery(returnedIds[q], trueIds[q], k, q, truth);
        }

        return new AnnRecallReport(k, perQuery.Average(), perQuery);
    }

    /// <summary>
    /// Measures ANN recall@k from row-major result buffers; see <see cref="AnnRecall(IReadOnlyList{long[]}, IReadOnlyList{long[]}, int)"/>.
    /// </summary>
    /// <param name="returnedIds">Returned ids, size n · <paramref name="returnedPerQuery"/>, row-major.</param>
    /// <param name="returnedPerQuery">Entries per query in <paramref name="returnedIds"/>.</param>
    /// <param name="trueIds">Exact neighbour ids, size n · <paramref name="truePerQuery"/>, row-major.</param>
    /// <param name="truePerQuery">Entries per query in <paramref name="trueIds"/>, at least k.</param>
    /// <param name="k">The cutoff.</param>
    /// <returns>The mean and per-query recall@k.</returns>
    /// <exception cref="ArgumentException">A buffer size does not match, or a ground-truth row has fewer than k ids.</exception>
    public static AnnRecallReport AnnRecall(ReadOnlySpan<long> returnedIds, int returnedPerQuery, ReadOnlySpan<long> trueIds, int truePerQuery, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(returnedPerQuery, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(truePerQuery, 1);
        if (returnedIds.Length % returnedPerQuery != 0 || trueIds.Length % truePerQuery != 0)
        {
            throw new ArgumentException(
                $"Buffer sizes {returnedIds.Length} and {trueIds.Length} must be multiples of their row lengths " +
                $"{returnedPerQuery} and {truePerQuery}.",
                nameof(returnedIds));
        }

        int queryCount = returnedIds.Length / returnedPerQuery;
        ValidateAnnArguments(queryCount, trueIds.Length / truePerQuery, k);
        var perQuery = new double[queryCount];
        var truth = new HashSet<long>(k);
        for (int q = 0; q < queryCount; q++)
        {
            perQuery[q] = AnnRecallOfQuery(
                returnedIds.Slice(q * returnedPerQuery, returnedPerQuery), trueIds.Slice(q * truePerQuery, truePerQuery), k, q, truth);
        }

        return new AnnRecallReport(k, perQuery.Average(), perQuery);
    }

    private static void ValidateAnnArguments(int returnedCount, int trueCount, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (returnedCount != trueCount)
        {
            throw new ArgumentException(
                $"Got results for {returnedCount} queries but ground truth for {trueCount}. Pass one row per query in both.",
                "trueIds");
        }

        if (returnedCount == 0)
        {
            throw new ArgumentException("No queries were given, so recall is not defined.", "returnedIds");
        }
    }

    private static double AnnRecallOfQuery(ReadOnlySpan<long> returned, ReadOnlySpan<long> exact, int k, int queryIndex, HashSet<long> truth)
    {
        truth.Clear();
        for (int i = 0; i < Math.Min(k, exact.Length); i++)
        {
            if (exact[i] != RankedList.Padding)
            {
                truth.Add(exact[i]);
            }
        }

        if (truth.Count < k)
        {
            throw new ArgumentException(
                $"Ground truth of query {queryIndex} has only {truth.Count} distinct ids among its first {Math.Min(k, exact.Length)} " +
                $"entries, but k = {k}. Compute at least k exact neighbours.",
                "trueIds");
        }

        int found = 0;
        for (int i = 0; i < Math.Min(k, returned.Length); i++)
        {
            // Remove on match, so a repeated id is counted once.
            if (truth.Remove(returned[i]))
            {
                found++;
            }
        }

        return found / (double)k;
    }
}
