using MLNetRetrieval.Indexes;
using MLNetRetrieval.Quantization;
using MLNetRetrieval.Tests.Quantization;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

/// <summary>Seeded clustered data, exact ground truth and recall for the IVF tests.</summary>
internal static class IvfTestData
{
    public const int Dimension = 32;
    public const int Lists = 32;
    public const int K = 10;

    /// <summary>4000 base vectors and 200 queries around 50 centers, with their exact 10 nearest neighbors.</summary>
    public static readonly Lazy<(float[] Base, float[] Queries, long[] Truth)> Clustered = new(() =>
    {
        float[] data = QuantizationTestData.Clustered(4000, Dimension, 50, seed: 31);
        float[] queries = QuantizationTestData.Clustered(200, Dimension, 50, seed: 31 + 1000);
        return (data, queries, ExactIds(data, queries, K));
    });

    public static KMeansOptions Training => new() { MaxIterations = 8, Seed = 5 };

    public static long[] ExactIds(float[] data, float[] queries, int k)
    {
        var exact = new ExactIndex(Dimension, DistanceMetric.SquaredEuclidean);
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

    public static (long[] Ids, float[] Distances) Search(IvfFlatIndex index, float[] queries, int k, IvfSearchParameters? parameters = null)
    {
        int nq = queries.Length / index.Dimension;
        var ids = new long[nq * k];
        var distances = new float[nq * k];
        index.Search(queries, k, ids, distances, parameters);
        return (ids, distances);
    }

    public static (long[] Ids, float[] Distances) Search(IvfPqIndex index, float[] queries, int k, IvfSearchParameters? parameters = null)
    {
        int nq = queries.Length / index.Dimension;
        var ids = new long[nq * k];
        var distances = new float[nq * k];
        index.Search(queries, k, ids, distances, parameters);
        return (ids, distances);
    }

    public static byte[] Bytes(Action<Stream> save)
    {
        var stream = new MemoryStream();
        save(stream);
        return stream.ToArray();
    }
}
