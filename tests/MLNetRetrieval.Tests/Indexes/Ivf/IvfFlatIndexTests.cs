using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;
using static MLNetRetrieval.Tests.Indexes.Ivf.IvfTestData;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

public class IvfFlatIndexTests
{
    private static readonly Lazy<IvfFlatIndex> Shared = new(() =>
    {
        var index = new IvfFlatIndex(Dimension, Lists);
        index.Train(Clustered.Value.Base, Training);
        index.Add(Clustered.Value.Base);
        return index;
    });

    public static IEnumerable<object[]> Widths() => VectorWidths.Available().Select(width => new object[] { (int)width });

    [Theory]
    [MemberData(nameof(Widths))]
    public void FullProbeEqualsExactIndex(int widthBits)
    {
        // Both indexes compute ‖x‖² + ‖y‖² − 2x·y with the same fused multiply-add chains, so the comparison is exact.
        var (data, queries, _) = Clustered.Value;
        var width = (VectorWidth)widthBits;
        var exact = new ExactIndex(Dimension, DistanceMetric.SquaredEuclidean) { Width = width };
        exact.Add(data);
        int nq = queries.Length / Dimension;
        var expectedIds = new long[nq * K];
        var expectedDistances = new float[nq * K];
        exact.Search(queries, K, expectedIds, expectedDistances);

        var index = new IvfFlatIndex(Dimension, Lists) { Width = width };
        index.Train(data, Training);
        index.Add(data);
        var parameters = new IvfSearchParameters { NumberOfProbes = Lists };
        var (ids, distances) = Search(index, queries, K, parameters);
        Assert.Equal(expectedIds, ids);
        Assert.Equal(expectedDistances, distances);

        // One query per call goes through the one-query kernel instead of the GEMM.
        for (int q = 0; q < 5; q++)
        {
            var (oneIds, oneDistances) = Search(index, queries.AsSpan(q * Dimension, Dimension).ToArray(), K, parameters);
            Assert.Equal(expectedIds.AsSpan(q * K, K).ToArray(), oneIds);
            Assert.Equal(expectedDistances.AsSpan(q * K, K).ToArray(), oneDistances);
        }
    }

    [Theory]
    [InlineData(1, 0.55)]
    [InlineData(2, 0.75)]
    [InlineData(4, 0.95)]
    public void RecallAboveFloor(int nprobe, double floor)
    {
        // Floors are set under the values measured on this data: 0.6065, 0.802 and 0.988.
        var (_, queries, truth) = Clustered.Value;
        var (ids, _) = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = nprobe });
        double recall = Recall(ids, truth, K);
        Assert.True(recall >= floor, $"recall@10 at nprobe {nprobe} is {recall}");
    }

    [Fact]
    public void RecallGrowsWithProbes()
    {
        var (_, queries, truth) = Clustered.Value;
        double previous = 0;
        foreach (int nprobe in new[] { 1, 2, 4, 8, 16, 32 })
        {
            var (ids, _) = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = nprobe });
            double recall = Recall(ids, truth, K);
            Assert.True(recall >= previous, $"recall@10 fell from {previous} to {recall} at nprobe {nprobe}");
            previous = recall;
        }
    }

    [Fact]
    public void ThreadCountDoesNotChangeResults()
    {
        var (_, queries, _) = Clustered.Value;
        var single = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 3, Threads = 1 });
        foreach (int threads in new[] { 2, 3, 7 })
        {
            var parallel = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 3, Threads = threads });
            Assert.Equal(single.Ids, parallel.Ids);
            Assert.Equal(single.Distances, parallel.Distances);
        }
    }

    [Fact]
    public void RemovedIdsNeverReturned()
    {
        var (data, queries, truth) = Clustered.Value;
        var index = new IvfFlatIndex(Dimension, Lists);
        index.Train(data, Training);
        index.Add(data);
        long[] removed = truth.Where((_, i) => i % 3 == 0).Distinct().ToArray();
        Assert.Equal(removed.Length, index.Remove(removed));
        Assert.False(index.Remove(removed[0]));
        Assert.Equal(4000 - removed.Length, index.Count);

        var (ids, _) = Search(index, queries, K, new IvfSearchParameters { NumberOfProbes = Lists });
        Assert.Empty(ids.Intersect(removed));
        long[] expected = ExactIds(data, queries, K + 60);
        var removedSet = removed.ToHashSet();
        int nq = queries.Length / Dimension;
        for (int q = 0; q < nq; q++)
        {
            long[] survivors = expected.AsSpan(q * (K + 60), K + 60).ToArray().Where(id => !removedSet.Contains(id)).Take(K).ToArray();
            Assert.Equal(survivors, ids.AsSpan(q * K, K).ToArray());
        }
    }

    [Fact]
    public void ExcludedIdsAndPadding()
    {
        var (data, _, _) = Clustered.Value;
        var index = new IvfFlatIndex(Dimension, 4);
        index.Train(data.AsSpan(0, 100 * Dimension), Training);
        index.Add(data.AsSpan(0, 6 * Dimension));
        float[] queries = data.AsSpan(0, 2 * Dimension).ToArray();
        var (ids, distances) = Search(index, queries, 8, new IvfSearchParameters { NumberOfProbes = 4, ExcludedIds = new long[] { 0, -1 } });
        Assert.DoesNotContain(0L, ids.AsSpan(0, 8).ToArray());
        Assert.Equal(new long[] { -1, -1, -1 }, ids.AsSpan(5, 3).ToArray());
        Assert.True(float.IsPositiveInfinity(distances[7]));
        Assert.Equal(1L, ids[8]);
        Assert.Equal(0f, distances[8]);
    }

    [Fact]
    public void SaveLoadIsBitIdentical()
    {
        var (_, queries, _) = Clustered.Value;
        IvfFlatIndex index = Shared.Value;
        byte[] saved = Bytes(index.Save);
        IvfFlatIndex loaded = IvfFlatIndex.Load(new MemoryStream(saved));
        Assert.Equal(saved, Bytes(loaded.Save));

        var parameters = new IvfSearchParameters { NumberOfProbes = 5 };
        var before = Search(index, queries, K, parameters);
        var after = Search(loaded, queries, K, parameters);
        Assert.Equal(before.Ids, after.Ids);
        Assert.Equal(before.Distances, after.Distances);
    }

    [Fact]
    public void AddAfterLoadIsSearchable()
    {
        var (data, _, _) = Clustered.Value;
        var index = new IvfFlatIndex(Dimension, 8);
        index.Train(data.AsSpan(0, 1000 * Dimension), Training);
        index.Add(data.AsSpan(0, 500 * Dimension));
        index.DefaultNumberOfProbes = 8;
        IvfFlatIndex loaded = IvfFlatIndex.Load(new MemoryStream(Bytes(index.Save)));
        Assert.Equal(8, loaded.DefaultNumberOfProbes);

        loaded.Add(data.AsSpan(500 * Dimension, 10 * Dimension));
        Assert.Equal(510, loaded.Count);
        var (ids, distances) = Search(loaded, data.AsSpan(505 * Dimension, Dimension).ToArray(), 1);
        Assert.Equal(505L, ids[0]);
        Assert.Equal(0f, distances[0]);
    }

    [Fact]
    public void CorruptFilesRejected()
    {
        byte[] saved = Bytes(Shared.Value.Save);
        foreach (int length in new[] { 0, 10, 40, saved.Length / 2, saved.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(saved.AsSpan(0, length).ToArray())));
        }

        foreach (int position in new[] { 30, 200, saved.Length / 2, saved.Length - 10 })
        {
            byte[] flipped = (byte[])saved.Clone();
            flipped[position] ^= 0x40;
            Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(flipped)));
        }
    }

    [Fact]
    public void TooFewTrainingVectorsNamesCounts()
    {
        var index = new IvfFlatIndex(4, 20);
        var error = Assert.Throws<ArgumentException>(() => index.Train(new float[19 * 4]));
        Assert.Contains("(20)", error.Message);
        Assert.Contains("got 19", error.Message);
    }

    [Fact]
    public void SearchBeforeTrainThrows()
    {
        var index = new IvfFlatIndex(4, 2);
        Assert.Throws<InvalidOperationException>(() => index.Search(new float[4], 1, new long[1], new float[1]));
        Assert.Throws<InvalidOperationException>(() => index.Add(new float[4]));
    }

    [Fact]
    public void ProbesOutsideRangeThrow()
    {
        IvfFlatIndex index = Shared.Value;
        var (_, queries, _) = Clustered.Value;
        float[] query = queries.AsSpan(0, Dimension).ToArray();
        foreach (int nprobe in new[] { -1, Lists + 1 })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(query, 1, new long[1], new float[1], new IvfSearchParameters { NumberOfProbes = nprobe }));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => index.DefaultNumberOfProbes = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.DefaultNumberOfProbes = Lists + 1);
    }

    [Fact]
    public void DuplicateIdsRejected()
    {
        var (data, _, _) = Clustered.Value;
        var index = new IvfFlatIndex(Dimension, 2);
        index.Train(data.AsSpan(0, 10 * Dimension), Training);
        index.Add(data.AsSpan(0, 2 * Dimension), new long[] { 7, 9 });
        Assert.Throws<ArgumentException>(() => index.Add(data.AsSpan(0, Dimension), new long[] { 9 }));
        Assert.Throws<ArgumentException>(() => index.Add(data.AsSpan(0, 2 * Dimension), new long[] { 3, 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Add(data.AsSpan(0, Dimension), new long[] { -2 }));
        Assert.Equal(2, index.Count);

        index.Add(data.AsSpan(0, Dimension));
        Assert.True(index.Contains(10));
    }

    [Fact]
    public void CancelledSearchThrows()
    {
        var (_, queries, _) = Clustered.Value;
        using var source = new CancellationTokenSource();
        source.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Search(Shared.Value, queries, K, new IvfSearchParameters { CancellationToken = source.Token }));
    }

    [Fact]
    public void ProgressReachesQueryCount()
    {
        var (_, queries, _) = Clustered.Value;
        var reports = new List<SearchProgress>();
        var progress = new SynchronousProgress(reports);
        Search(Shared.Value, queries, K, new IvfSearchParameters { Threads = 1, Progress = progress });
        Assert.Equal(200, reports.Max(report => report.QueriesDone));
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
