using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Tests.Indexes;

/// <summary>Obviously correct exact search in float64: every distance, then a full sort by (distance, id).</summary>
internal static class NaiveSearch
{
    public static double Distance(ReadOnlySpan<float> x, ReadOnlySpan<float> y, DistanceMetric metric)
    {
        double dot = 0, xx = 0, yy = 0, l2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += (double)x[i] * y[i];
            xx += (double)x[i] * x[i];
            yy += (double)y[i] * y[i];
            double diff = (double)x[i] - y[i];
            l2 += diff * diff;
        }

        return metric switch
        {
            DistanceMetric.SquaredEuclidean => l2,
            DistanceMetric.InnerProduct => -dot,
            _ => 1 - (dot / Math.Sqrt(xx * yy)),
        };
    }

    /// <summary>Returns, per query, the k best (id, distance) pairs, padded with (−1, +∞).</summary>
    public static (long Id, double Distance)[][] Search(float[] vectors, long[] ids, float[] queries, int d, int k, DistanceMetric metric, long[]? excluded = null)
    {
        int n = vectors.Length / d;
        int nq = queries.Length / d;
        var result = new (long, double)[nq][];
        for (int q = 0; q < nq; q++)
        {
            var all = new List<(long Id, double Distance)>();
            for (int row = 0; row < n; row++)
            {
                if (excluded is not null && excluded[q] == ids[row])
                {
                    continue;
                }

                all.Add((ids[row], Distance(queries.AsSpan(q * d, d), vectors.AsSpan(row * d, d), metric)));
            }

            var best = all.OrderBy(p => p.Distance).ThenBy(p => p.Id).Take(k).ToList();
            while (best.Count < k)
            {
                best.Add((-1, double.PositiveInfinity));
            }

            result[q] = best.ToArray();
        }

        return result;
    }
}
