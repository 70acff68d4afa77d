namespace MLNetRetrieval.Tests.Evaluation;

/// <summary>
/// Slow, direct implementations of the metric definitions, to check the single-pass scorer against.
/// Tie-aware values come from enumerating every ordering of every group of equal distances.
/// </summary>
internal static class ReferenceMetrics
{
    public sealed record Values(double[] RecallAt, double[] PrecisionAt, double AveragePrecision, double MapAtR);

    public static Values AsRanked(bool[] relevant, int relevantCount, int[] recallCutoffs, int[] precisionCutoffs)
    {
        // Hits in the first k positions, counted from scratch every time.
        int HitsInTop(int k) => relevant.Take(k).Count(isRelevant => isRelevant);

        double averagePrecision = 0;
        double mapAtR = 0;
        for (int i = 1; i <= relevant.Length; i++)
        {
            if (!relevant[i - 1])
            {
                continue;
            }

            double precisionAtI = HitsInTop(i) / (double)i;
            averagePrecision += precisionAtI;
            if (i <= relevantCount)
            {
                mapAtR += precisionAtI;
            }
        }

        return new Values(
            recallCutoffs.Select(k => HitsInTop(k) > 0 ? 1.0 : 0.0).ToArray(),
            precisionCutoffs.Select(k => HitsInTop(k) / (double)k).ToArray(),
            averagePrecision / relevantCount,
            mapAtR / relevantCount);
    }

    public static Values TieAveraged(bool[] relevant, float[] distances, int relevantCount, int[] recallCutoffs, int[] precisionCutoffs)
    {
        var orderings = new List<bool[]>();
        EnumerateOrderings(relevant, distances, 0, (bool[])relevant.Clone(), orderings);

        var all = orderings.Select(order => AsRanked(order, relevantCount, recallCutoffs, precisionCutoffs)).ToList();
        return new Values(
            Enumerable.Range(0, recallCutoffs.Length).Select(k => all.Average(v => v.RecallAt[k])).ToArray(),
            Enumerable.Range(0, precisionCutoffs.Length).Select(k => all.Average(v => v.PrecisionAt[k])).ToArray(),
            all.Average(v => v.AveragePrecision),
            all.Average(v => v.MapAtR));
    }

    // Appends one entry per ordering of the positions (repeated relevance patterns included), so every
    // ordering has the same weight.
    private static void EnumerateOrderings(bool[] relevant, float[] distances, int start, bool[] current, List<bool[]> output)
    {
        if (start == relevant.Length)
        {
            output.Add((bool[])current.Clone());
            return;
        }

        int end = start + 1;
        while (end < relevant.Length && distances[end] == distances[start])
        {
            end++;
        }

        foreach (int[] permutation in Permutations(Enumerable.Range(start, end - start).ToArray()))
        {
            for (int j = 0; j < permutation.Length; j++)
            {
                current[start + j] = relevant[permutation[j]];
            }

            EnumerateOrderings(relevant, distances, end, current, output);
        }
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (int i = 0; i < items.Length; i++)
        {
            int[] rest = items.Where((_, index) => index != i).ToArray();
            foreach (int[] tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }
}
