using MLNetRetrieval.Indexes;
using MLNetRetrieval.Tests.Quantization;

namespace MLNetRetrieval.Tests.Indexes.Hnsw;

/// <summary>Seeded clustered data, exact ground truth and recall for the HNSW tests.</summary>
internal static class HnswTestData
{
    public const int Dimension = 24;
    public const int K = 10;

    /// <summary>
    /// 3000 base vectors and 200 queries drawn around the same 40 centers (one seeded sample split in two), with their
    /// exact 10 nearest neighbors.
    /// </summary>
    public static readonly Lazy<(float[] Base, float[] Queries, long[] Truth)> Clustered = new(() =>
    {
        float[] sample = QuantizationTestData.Clustered(3200, Dimension, 40, seed: 71);
        float[] data = sample.AsSpan(0, 3000 * Dimension).ToArray();
        float[] queries = sample.AsSpan(3000 * Dimension).ToArray();
        return (data, queries, ExactIds(data, queries, K, DistanceMetric.SquaredEuclidean));
    });

    public static long[] ExactIds(float[] data, float[] queries, int k, DistanceMetric metric)
    {
        var exact = new ExactIndex(Dimension, metric);
        exact.Add(data);
        int nq = queries.Length / Dimension;
        var ids = new long[nq * k];
        exact.Search(queries, k, ids, new float[nq * k]);
        return ids;
    }

    public static double Recall(long[] found, long[] truth, int k)
    {
        int nq = truth.Length / k;
        int hits = 0;
        for (int q = 0; q < nq; q++)
        {
            var expected = truth.AsSpan(q * k, k);
            foreach (long id in found.AsSpan(q * k, k))
            {
                if (expected.Contains(id))
                {
                    hits++;
                }
            }
        }

        return hits / (double)(nq * k);
    }

    public static HnswIndex Build(float[] data, HnswOptions options, DistanceMetric metric = DistanceMetric.SquaredEuclidean, int threads = 1)
    {
        var index = new HnswIndex(Dimension, metric, options);
        index.Add(data, threads);
        return index;
    }

    public static (long[] Ids, float[] Distances) Search(HnswIndex index, float[] queries, int k, HnswSearchParameters? parameters = null)
    {
        int nq = queries.Length / index.Dimension;
        var ids = new long[nq * k];
        var distances = new float[nq * k];
        index.Search(queries, k, ids, distances, parameters ?? new HnswSearchParameters { Threads = 1 });
        return (ids, distances);
    }

    public static byte[] SaveBytes(HnswIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }
}
