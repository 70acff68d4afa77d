namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Computes the metrics of one judged ranking. Both tie modes share one pass over groups of positions:
/// with <see cref="TieHandling.AsRanked"/> every group contains one position, with
/// <see cref="TieHandling.Average"/> a group is a run of equal distances.
/// </summary>
/// <remarks>
/// Expected values over the orderings of a tied group (McSherry and Najork, ECIR 2008). Let the group
/// fill 1-based positions s+1 .. s+n, hold r relevant items, and follow c relevant items. Every
/// ordering of the group is equally likely, so:
/// <list type="bullet">
/// <item>hits in the top K, for s &lt; K ≤ s+n: E = c + r·(K−s)/n;</item>
/// <item>P(at least one hit in the top K) = 1 when c &gt; 0, else 1 − C(n−r, m)/C(n, m) with m = K−s;</item>
/// <item>at position i = s+j: E[rel_i · hits(1..i)] = (r/n)·(c + 1 + (j−1)(r−1)/(n−1)), because
/// position i is relevant with probability r/n, and given that, each of the j−1 earlier group
/// positions contains one of the other r−1 relevant items with probability (r−1)/(n−1).</item>
/// </list>
/// AP and MAP@R are sums of E[rel_i · hits(1..i)] / i over positions, so the expectation passes
/// through the sum. With n = 1 every formula gives the plain as-ranked value.
/// </remarks>
internal static class QueryScorer
{
    public static QueryMetrics Score(JudgedRanking ranking, RankingEvaluatorOptions options)
    {
        int relevantCount = ranking.RelevantCount;
        int length = ranking.Length;
        bool shorterThanR = length < relevantCount;
        if (relevantCount == 0)
        {
            return new QueryMetrics(
                ranking.QueryId, 0, length, ranking.RemovedJunkCount, Excluded: true,
                RecallAt: null, PrecisionAt: null, AveragePrecision: null, MapAtR: null, ShorterThanR: false);
        }

        if (shorterThanR && options.ShortRankingForMapAtR == ShortRankingHandling.Reject)
        {
            throw new ArgumentException(
                $"Query {ranking.QueryId} has {relevantCount} relevant items (R) but its ranking contains only {length} " +
                "scored positions, so MAP@R is not defined. Retrieve at least R items, or set ShortRankingForMapAtR " +
                "to ScoreMissingAsNonRelevant.",
                "rankings");
        }

        bool useGroups = options.TieHandling == TieHandling.Average;
        if (useGroups && !ranking.HasDistances && length > 0)
        {
            throw new ArgumentException(
                $"Query {ranking.QueryId} has no distances, but TieHandling.Average needs them to find ties. " +
                "Pass distances, or use TieHandling.AsRanked.",
                "rankings");
        }

        IReadOnlyList<int> recallCutoffs = options.RecallCutoffs;
        IReadOnlyList<int> precisionCutoffs = options.PrecisionCutoffs;
        var hitProbability = new double[recallCutoffs.Count];
        var expectedHits = new double[precisionCutoffs.Count];

        ReadOnlySpan<bool> relevant = ranking.Relevant;
        ReadOnlySpan<float> distances = ranking.Distances;
        double averagePrecisionSum = 0;
        double mapAtRSum = 0;
        int relevantBefore = 0;
        int groupStart = 0;
        while (groupStart < length)
        {
            int groupEnd = groupStart + 1;
            if (useGroups)
            {
                while (groupEnd < length && distances[groupEnd] == distances[groupStart])
                {
                    groupEnd++;
                }
            }

            int n = groupEnd - groupStart;
            int r = 0;
            for (int i = groupStart; i < groupEnd; i++)
            {
                r += relevant[i] ? 1 : 0;
            }

            if (r > 0)
            {
                double otherRelevantShare = n == 1 ? 0 : (r - 1) / (double)(n - 1);
                for (int j = 1; j <= n; j++)
                {
                    int position = groupStart + j;
                    double expectedHitsIfRelevant = relevantBefore + 1 + (j - 1) * otherRelevantShare;
                    double term = r / (double)n * expectedHitsIfRelevant / position;
                    averagePrecisionSum += term;
                    if (position <= relevantCount)
                    {
                        mapAtRSum += term;
                    }
                }
            }

            for (int k = 0; k < recallCutoffs.Count; k++)
            {
                int cutoff = recallCutoffs[k];
                if (cutoff > groupStart && cutoff <= groupEnd)
                {
                    hitProbability[k] = HitProbability(relevantBefore, n, r, cutoff - groupStart);
                }
            }

            for (int k = 0; k < precisionCutoffs.Count; k++)
            {
                int cutoff = precisionCutoffs[k];
                if (cutoff > groupStart && cutoff <= groupEnd)
                {
                    expectedHits[k] = relevantBefore + r * (double)(cutoff - groupStart) / n;
                }
            }

            relevantBefore += r;
            groupStart = groupEnd;
        }

        // Cutoffs past the end of the ranking see every retrieved item; the missing positions are misses.
        for (int k = 0; k < recallCutoffs.Count; k++)
        {
            if (recallCutoffs[k] > length)
            {
                hitProbability[k] = relevantBefore > 0 ? 1 : 0;
            }
        }

        var precision = new double[precisionCutoffs.Count];
        for (int k = 0; k < precisionCutoffs.Count; k++)
        {
            double hits = precisionCutoffs[k] > length ? relevantBefore : expectedHits[k];
            precision[k] = hits / precisionCutoffs[k];
        }

        return new QueryMetrics(
            ranking.QueryId,
            relevantCount,
            length,
            ranking.RemovedJunkCount,
            Excluded: false,
            RecallAt: hitProbability,
            PrecisionAt: precision,
            AveragePrecision: averagePrecisionSum / relevantCount,
            MapAtR: mapAtRSum / relevantCount,
            ShorterThanR: shorterThanR);
    }

    // Probability that the first m positions of a shuffled group of n items, r of them relevant, hold at
    // least one relevant item, given c relevant items before the group: 1 − C(n−r, m) / C(n, m).
    private static double HitProbability(int relevantBefore, int n, int r, int m)
    {
        if (relevantBefore > 0)
        {
            return 1;
        }

        if (r == 0)
        {
            return 0;
        }

        // C(n−r, m) / C(n, m) = Π_{t<m} (n−r−t)/(n−t); a factor reaches 0 once m > n − r.
        double allMissProbability = 1;
        for (int t = 0; t < m; t++)
        {
            allMissProbability *= (n - r - t) / (double)(n - t);
            if (allMissProbability <= 0)
            {
                return 1;
            }
        }

        return 1 - allMissProbability;
    }
}
