using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.Tests.Kernels;
using Xunit;

namespace MLNetRetrieval.Tests.Indexes;

public class ExactIndexTests
{
    // Float32 GEMM distances against float64 sums on unit-scale Gaussian data with d <= 100.
    private const double DistanceTolerance = 1e-4;

    public static IEnumerable<object[]> Metrics() =>
        Enum.GetValues<DistanceMetric>().Select(metric => new object[] { metric });

    [Theory]
    [MemberData(nameof(Metrics))]
    public void SearchMatchesNaiveOnIntegers(DistanceMetric metric)
    {
        // Small integers keep float32 sums exact, so ids must match the reference exactly, ties included.
        var random = new Random(41);
        const int D = 17, N = 300, Nq = 29, K = 10;
        float[] vectors = NonZero(KernelTestData.SmallIntegers(random, N * D, maxAbs: 1), D);
        float[] queries = NonZero(KernelTestData.SmallIntegers(random, Nq * D, maxAbs: 1), D);
        long[] ids = ShuffledIds(random, N);
        var index = new ExactIndex(D, metric);
        index.Add(vectors, ids);

        var (found, distances) = Search(index, queries, K, new SearchParameters { Threads = 1 });
        var expected = NaiveSearch.Search(vectors, ids, queries, D, K, metric);
        if (metric == DistanceMetric.Cosine)
        {
            // Normalization rounds, so compare distances and require each id's true distance to fit its rank.
            AssertDistancesClose(expected, found, distances, vectors, ids, queries, D, metric);
            return;
        }

        for (int q = 0; q < Nq; q++)
        {
            Assert.Equal(expected[q].Select(p => p.Id).ToArray(), found.AsSpan(q * K, K).ToArray());
            Assert.Equal(expected[q].Select(p => (float)p.Distance).ToArray(), distances.AsSpan(q * K, K).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Metrics))]
    public void SearchMatchesNaiveOnGaussians(DistanceMetric metric)
    {
        var random = new Random(42);
        const int D = 33, N = 257, Nq = 19, K = 7;
        float[] vectors = KernelTestData.Gaussian(random, N * D);
        float[] queries = KernelTestData.Gaussian(random, Nq * D);
        long[] ids = ShuffledIds(random, N);
        var index = new ExactIndex(D, metric);
        index.Add(vectors, ids);

        var (found, distances) = Search(index, queries, K, null);
        var expected = NaiveSearch.Search(vectors, ids, queries, D, K, metric);
        AssertDistancesClose(expected, found, distances, vectors, ids, queries, D, metric);
    }

    [Theory]
    [MemberData(nameof(Metrics))]
    public void WidthsAndBlockingGiveSameResults(DistanceMetric metric)
    {
        var random = new Random(43);
        const int D = 19, N = 611, Nq = 37, K = 12;
        float[] vectors = KernelTestData.Gaussian(random, N * D);
        float[] queries = KernelTestData.Gaussian(random, Nq * D);
        var index = new ExactIndex(D, metric);
        index.Add(vectors);

        var (expectedIds, expectedDistances) = Search(index, queries, K, new SearchParameters { Threads = 1 });
        foreach (VectorWidth width in VectorWidths.Available())
        {
            foreach (int kc in new[] { GemmKernel.DefaultKc, 5 })
            {
                index.Width = width;
                index.KcMax = kc;
                var (ids, distances) = Search(index, queries, K, new SearchParameters { Threads = 1 });
                Assert.Equal(expectedIds, ids);
                Assert.Equal(expectedDistances, distances);
            }
        }
    }

    [Fact]
    public void TwoThreadsMatchOneThread()
    {
        var random = new Random(44);
        const int D = 31, N = 500, Nq = 601, K = 10;
        float[] vectors = KernelTestData.SmallIntegers(random, N * D, maxAbs: 1);
        float[] queries = KernelTestData.SmallIntegers(random, Nq * D, maxAbs: 1);
        var index = new ExactIndex(D, DistanceMetric.SquaredEuclidean);
        index.Add(vectors);

        var (oneIds, oneDistances) = Search(index, queries, K, new SearchParameters { Threads = 1 });
        var (twoIds, twoDistances) = Search(index, queries, K, new SearchParameters { Threads = 2 });
        Assert.Equal(oneIds, twoIds);
        Assert.Equal(oneDistances, twoDistances);
    }

    [Fact]
    public void LargeKPadsWithMinusOne()
    {
        var index = new ExactIndex(3, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 0, 0, 0, 1, 1, 1 });
        var (ids, distances) = Search(index, new float[] { 0, 0, 1 }, 4, null);
        Assert.Equal(new long[] { 0, 1, -1, -1 }, ids);
        Assert.Equal(new[] { 1f, 2f, float.PositiveInfinity, float.PositiveInfinity }, distances);
    }

    [Fact]
    public void EmptyIndexReturnsPadding()
    {
        var index = new ExactIndex(2, DistanceMetric.InnerProduct);
        var (ids, distances) = Search(index, new float[] { 1, 2 }, 2, null);
        Assert.Equal(new long[] { -1, -1 }, ids);
        Assert.All(distances, value => Assert.Equal(float.PositiveInfinity, value));
    }

    [Fact]
    public void TiesGoToLowerId()
    {
        var index = new ExactIndex(2, DistanceMetric.SquaredEuclidean);
        float[] same = Enumerable.Repeat(new[] { 1f, 2f }, 50).SelectMany(v => v).ToArray();
        long[] ids = Enumerable.Range(0, 50).Select(i => (long)(1000 - (7 * i))).ToArray();
        index.Add(same, ids);
        var (found, _) = Search(index, new float[] { 1, 2 }, 5, null);
        Assert.Equal(ids.Order().Take(5).ToArray(), found);
    }

    [Fact]
    public void ExcludedIdsLeaveOneOut()
    {
        var random = new Random(45);
        const int D = 9, N = 120, K = 5;
        float[] vectors = KernelTestData.SmallIntegers(random, N * D, maxAbs: 2);
        long[] ids = ShuffledIds(random, N);
        var index = new ExactIndex(D, DistanceMetric.SquaredEuclidean);
        index.Add(vectors, ids);

        long[] excluded = ids.ToArray();
        excluded[3] = -1;
        var (found, _) = Search(index, vectors, K, new SearchParameters { ExcludedIds = excluded, Threads = 2 });
        var expected = NaiveSearch.Search(vectors, ids, vectors, D, K, DistanceMetric.SquaredEuclidean, excluded);
        for (int q = 0; q < N; q++)
        {
            Assert.Equal(expected[q].Select(p => p.Id).ToArray(), found.AsSpan(q * K, K).ToArray());
        }

        Assert.Equal(ids[3], found[3 * K]);
    }

    [Fact]
    public void ProgressReportsAllQueries()
    {
        var random = new Random(46);
        var index = new ExactIndex(4, DistanceMetric.SquaredEuclidean);
        index.Add(KernelTestData.Gaussian(random, 40 * 4));
        var reports = new List<SearchProgress>();
        var progress = new SynchronousProgress(reports);
        Search(index, KernelTestData.Gaussian(random, 700 * 4), 3, new SearchParameters { Threads = 1, Progress = progress });
        Assert.Equal(new SearchProgress(700, 700), reports[^1]);
        Assert.True(reports.Count > 1, $"expected several reports, got {reports.Count}");
    }

    [Fact]
    public void CanceledTokenStopsSearch()
    {
        var index = new ExactIndex(4, DistanceMetric.SquaredEuclidean);
        index.Add(new float[400]);
        using var source = new CancellationTokenSource();
        source.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Search(index, new float[40], 2, new SearchParameters { CancellationToken = source.Token, Threads = 2 }));
    }

    [Fact]
    public void CosineStoresUnitVectors()
    {
        var index = new ExactIndex(2, DistanceMetric.Cosine);
        index.Add(new float[] { 3, 4 }, new long[] { 42 });
        Assert.True(index.TryGetRow(42, out int row));
        Assert.Equal(42, index.GetId(row));
        Assert.Equal(0.6f, index.GetVector(row)[0], 6);
        Assert.Equal(0.8f, index.GetVector(row)[1], 6);
    }

    [Fact]
    public void SequentialIdsContinueFromCount()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2 });
        index.Add(new float[] { 3 });
        Assert.Equal(3, index.Count);
        Assert.Equal(2, index.GetId(2));
    }

    internal static (long[] Ids, float[] Distances) Search(ExactIndex index, float[] queries, int k, SearchParameters? parameters)
    {
        int nq = queries.Length / index.Dimension;
        var ids = new long[nq * k];
        var distances = new float[nq * k];
        index.Search(queries, k, ids, distances, parameters);
        return (ids, distances);
    }

    internal static long[] ShuffledIds(Random random, int n)
    {
        long[] ids = Enumerable.Range(0, n).Select(i => (long)i * 3).ToArray();
        random.Shuffle(ids);
        return ids;
    }

    private static float[] NonZero(float[] values, int d)
    {
        for (int row = 0; row < values.Length / d; row++)
        {
            if (values.AsSpan(row * d, d).IndexOfAnyExcept(0f) < 0)
            {
                values[row * d] = 1;
            }
        }

        return values;
    }

    private static void AssertDistancesClose((long Id, double Distance)[][] expected, long[] found, float[] distances, float[] vectors, long[] ids, float[] queries, int d, DistanceMetric metric)
    {
        int k = expected[0].Length;
        var rowOf = ids.Select((id, row) => (id, row)).ToDictionary(p => p.id, p => p.row);
        for (int q = 0; q < expected.Length; q++)
        {
            for (int j = 0; j < k; j++)
            {
                double reference = expected[q][j].Distance;
                float actual = distances[(q * k) + j];
                Assert.True(Math.Abs(reference - actual) <= DistanceTolerance, $"query {q}, rank {j}: expected distance {reference}, got {actual}");

                int row = rowOf[found[(q * k) + j]];
                double trueDistance = NaiveSearch.Distance(queries.AsSpan(q * d, d), vectors.AsSpan(row * d, d), metric);
                Assert.True(Math.Abs(trueDistance - actual) <= DistanceTolerance, $"query {q}, rank {j}: id {found[(q * k) + j]} has distance {trueDistance}, reported {actual}");
            }
        }
    }

    private sealed class SynchronousProgress(List<SearchProgress> reports) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
