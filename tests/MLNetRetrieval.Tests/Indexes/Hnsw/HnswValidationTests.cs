using MLNetRetrieval.Indexes;
using static MLNetRetrieval.Tests.Indexes.Hnsw.HnswTestData;

namespace MLNetRetrieval.Tests.Indexes.Hnsw;

public class HnswValidationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(HnswOptions.MaxConnectivity + 1)]
    public void ConnectivityOutOfRangeRejected(int connectivity)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(4, DistanceMetric.SquaredEuclidean, new HnswOptions { Connectivity = connectivity }));
        Assert.Contains("Connectivity", error.Message);
    }

    [Fact]
    public void EfConstructionBelowOneRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(4, DistanceMetric.SquaredEuclidean, new HnswOptions { EfConstruction = 0 }));
        Assert.Contains("EfConstruction", error.Message);
    }

    [Fact]
    public void EfSearchBelowOneRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(4, DistanceMetric.SquaredEuclidean, new HnswOptions { EfSearch = 0 }));
        Assert.Contains("EfSearch", error.Message);
    }

    [Fact]
    public void EfSearchSetterRejectsZero()
    {
        var index = new HnswIndex(4, DistanceMetric.SquaredEuclidean);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.EfSearch = 0);
    }

    [Fact]
    public void NegativeSearchEfRejected()
    {
        var index = new HnswIndex(2, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2 });
        var parameters = new HnswSearchParameters { EfSearch = -1 };
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new float[] { 1, 2 }, 1, new long[1], new float[1], parameters));
    }

    [Fact]
    public void DimensionMismatchRejected()
    {
        var index = new HnswIndex(4, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 2, 3, 4, 5 }));
        Assert.Equal("vectors", error.ParamName);
    }

    [Fact]
    public void QueryDimensionMismatchRejected()
    {
        var index = new HnswIndex(4, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2, 3, 4 });
        var error = Assert.Throws<ArgumentException>(() => index.Search(new float[] { 1, 2, 3 }, 1, new long[1], new float[1]));
        Assert.Equal("queries", error.ParamName);
    }

    [Fact]
    public void NaNRejectedAndNothingAdded()
    {
        var index = new HnswIndex(2, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 2, float.NaN, 3 }));
        Assert.Contains("Row 1, column 0", error.Message);
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void CosineZeroVectorRejected()
    {
        var index = new HnswIndex(2, DistanceMetric.Cosine);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 2, 0, 0 }));
        Assert.Contains("zero vector", error.Message);
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void DuplicateIdRejected()
    {
        var index = new HnswIndex(1, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1 }, new long[] { 7 });
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 2 }, new long[] { 7 }));
        Assert.Contains("already stored", error.Message);
    }

    [Fact]
    public void NegativeIdRejected()
    {
        var index = new HnswIndex(1, DistanceMetric.SquaredEuclidean);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Add(new float[] { 1 }, new long[] { -2 }));
    }

    [Fact]
    public void UnknownIdDeleteRejected()
    {
        var index = new HnswIndex(1, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.MarkDeleted(3));
        Assert.Contains("No vector has id 3", error.Message);
    }

    [Fact]
    public void WrongResultLengthRejected()
    {
        var index = new HnswIndex(2, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2 });
        Assert.Throws<ArgumentException>(() => index.Search(new float[] { 1, 2 }, 2, new long[1], new float[2]));
    }

    [Fact]
    public void CanceledTokenStopsSearch()
    {
        var index = new HnswIndex(2, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2 });
        using var source = new CancellationTokenSource();
        source.Cancel();
        var parameters = new HnswSearchParameters { CancellationToken = source.Token };
        Assert.ThrowsAny<OperationCanceledException>(() => index.Search(new float[] { 1, 2 }, 1, new long[1], new float[1], parameters));
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 0.95)]       // measured 1.000
    [InlineData(DistanceMetric.InnerProduct, 0.95)] // measured 1.000
    public void OtherMetricsMeetFloor(DistanceMetric metric, double floor)
    {
        var (data, queries, _) = Clustered.Value;
        long[] truth = ExactIds(data, queries, K, metric);
        var index = Build(data, new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 5 }, metric);
        var (ids, distances) = Search(index, queries, K, new HnswSearchParameters { Threads = 1, EfSearch = 64 });
        double recall = Recall(ids, truth, K);
        Assert.True(recall >= floor, $"recall@{K} {recall:F4} under {metric} is below the floor {floor}");
        Assert.True(IsSortedBestFirst(distances, K));
    }

    [Fact]
    public void DistancesMatchNaiveReference()
    {
        var (data, queries, _) = Clustered.Value;
        var index = Build(data, new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 5 }, DistanceMetric.Cosine);
        var (ids, distances) = Search(index, queries, K);
        for (int i = 0; i < ids.Length; i++)
        {
            int q = i / K;
            double expected = NaiveSearch.Distance(queries.AsSpan(q * Dimension, Dimension), data.AsSpan((int)ids[i] * Dimension, Dimension), DistanceMetric.Cosine);
            Assert.Equal(expected, distances[i], 1e-5);
        }
    }

    [Fact]
    public void SmallIndexPadsResults()
    {
        var index = new HnswIndex(2, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 0, 0, 3, 4 }, new long[] { 10, 20 });
        var ids = new long[3];
        var distances = new float[3];
        index.Search(new float[] { 0, 0 }, 3, ids, distances);
        Assert.Equal(new long[] { 10, 20, -1 }, ids);
        Assert.Equal(new[] { 0f, 25f, float.PositiveInfinity }, distances);
    }

    private static bool IsSortedBestFirst(float[] distances, int k)
    {
        for (int i = 0; i < distances.Length; i++)
        {
            if (i % k != 0 && distances[i] < distances[i - 1])
            {
                return false;
            }
        }

        return true;
    }
}
