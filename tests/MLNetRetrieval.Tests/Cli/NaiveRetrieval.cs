using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>Slow, obviously correct k-NN and ranking metrics to check the CLI against.</summary>
internal static class NaiveRetrieval
{
    public sealed record Metrics(double[] RecallAt, double[] PrecisionAt, double MeanAveragePrecision, double MapAtR);

    /// <summary>Squared-L2 neighbors in float64, ties to the lower id; <paramref name="excludedId"/> is skipped.</summary>
    public static (long Id, double Distance)[] SquaredL2(VectorSet collection, ReadOnlySpan<float> query, int k, long excludedId = -1)
    {
        var all = new List<(long Id, double Distance)>();
        for (int row = 0; row < collection.Count; row++)
        {
            long id = collection.Ids?[row] ?? row;
            if (id == excludedId)
                continue;
            ReadOnlySpan<float> item = collection.GetVector(row);
            double sum = 0;
            for (int j = 0; j < item.Length; j++)
                sum += ((double)item[j] - query[j]) * ((double)item[j] - query[j]);
            all.Add((id, sum));
        }

        return all.OrderBy(p => p.Distance).ThenBy(p => p.Id).Take(k).ToArray();
    }

    /// <summary>Cosine distance 1 − x·y / (‖x‖‖y‖) neighbors in float64, ties to the lower id.</summary>
    public static long[] Cosine(VectorSet collection, ReadOnlySpan<float> query, int k)
    {
        var all = new List<(long Id, double Distance)>();
        for (int row = 0; row < collection.Count; row++)
        {
            ReadOnlySpan<float> item = collection.GetVector(row);
            double dot = 0, xx = 0, yy = 0;
            for (int j = 0; j < item.Length; j++)
            {
                dot += (double)item[j] * query[j];
                xx += (double)item[j] * item[j];
                yy += (double)query[j] * query[j];
            }

            all.Add((collection.Ids?[row] ?? row, 1 - dot / Math.Sqrt(xx * yy)));
        }

        return all.OrderBy(p => p.Distance).ThenBy(p => p.Id).Take(k).Select(p => p.Id).ToArray();
    }

    /// <summary>
    /// Leave-one-out label metrics: every item is a query ranked against all others by squared L2.
    /// Recall@K is 1 when a same-label item is in the top K; AP and MAP@R divide by the number of
    /// other items with the query's label.
    /// </summary>
    public static Metrics LeaveOneOut(VectorSet items, int[] recallCutoffs, int[] precisionCutoffs)
    {
        var recallSums = new double[recallCutoffs.Length];
        var precisionSums = new double[precisionCutoffs.Length];
        double apSum = 0, mapAtRSum = 0;
        int evaluated = 0;
        for (int q = 0; q < items.Count; q++)
        {
            long queryId = items.Ids![q];
            string label = items.Labels![q];
            int relevantCount = items.Labels.Count(l => l == label) - 1;
            if (relevantCount == 0)
                continue;
            var byId = items.Ids.Select((id, row) => (id, row)).ToDictionary(p => p.id, p => p.row);
            bool[] relevant = SquaredL2(items, items.GetVector(q), items.Count, queryId)
                .Select(n => items.Labels[byId[n.Id]] == label).ToArray();

            evaluated++;
            for (int c = 0; c < recallCutoffs.Length; c++)
                recallSums[c] += relevant.Take(recallCutoffs[c]).Any(r => r) ? 1 : 0;
            for (int c = 0; c < precisionCutoffs.Length; c++)
                precisionSums[c] += relevant.Take(precisionCutoffs[c]).Count(r => r) / (double)precisionCutoffs[c];
            double ap = 0, mapAtR = 0;
            int hits = 0;
            for (int i = 0; i < relevant.Length; i++)
            {
                if (!relevant[i])
                    continue;
                hits++;
                ap += hits / (double)(i + 1);
                if (i < relevantCount)
                    mapAtR += hits / (double)(i + 1);
            }

            apSum += ap / relevantCount;
            mapAtRSum += mapAtR / relevantCount;
        }

        return new Metrics(
            recallSums.Select(s => s / evaluated).ToArray(),
            precisionSums.Select(s => s / evaluated).ToArray(),
            apSum / evaluated,
            mapAtRSum / evaluated);
    }
}
