using MLNetRetrieval.Indexes;
using static MLNetRetrieval.Tests.Indexes.Hnsw.HnswTestData;

namespace MLNetRetrieval.Tests.Indexes.Hnsw;

public class HnswIndexTests
{
    private static readonly Lazy<HnswIndex> Shared = new(() => Build(Clustered.Value.Base, new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 3 }));

    [Theory]
    [InlineData(4, 10, 0.84)]   // measured 0.868
    [InlineData(4, 40, 0.96)]   // measured 0.983
    [InlineData(8, 10, 0.93)]   // measured 0.952
    [InlineData(16, 10, 0.95)]  // measured 0.972
    public void RecallMeetsFloor(int connectivity, int efSearch, double floor)
    {
        var (data, queries, truth) = Clustered.Value;
        var index = Build(data, new HnswOptions { Connectivity = connectivity, EfConstruction = 64, Seed = 5 });
        var (ids, _) = Search(index, queries, K, new HnswSearchParameters { Threads = 1, EfSearch = efSearch });
        double recall = Recall(ids, truth, K);
        Assert.True(recall >= floor, $"recall@{K} {recall:F4} with M = {connectivity}, ef = {efSearch} is below the floor {floor}");
    }

    [Fact]
    public void KeepPrunedFillsLinkLists()
    {
        var (data, queries, truth) = Clustered.Value;
        var index = Build(data, new HnswOptions { Connectivity = 4, EfConstruction = 64, Seed = 5, KeepPrunedConnections = true });
        int shortLists = Enumerable.Range(0, 3000).Count(row => index.Layer0Links(row).Length < 4);
        var (ids, _) = Search(index, queries, K, new HnswSearchParameters { Threads = 1, EfSearch = 10 });
        double recall = Recall(ids, truth, K);
        Assert.Equal(0, shortLists);
        Assert.True(recall >= 0.82, $"recall@{K} {recall:F4} with kept pruned links is below the floor 0.82 (measured 0.849)");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void DuplicatesStayReachable(int threads)
    {
        // 600 vectors that are 300 copies each of two points, plus 400 scattered points: the heuristic prunes every
        // copy but one from a copy's candidates, so without the parent links some copies lose all in-links.
        float[] scattered = Tests.Quantization.QuantizationTestData.Clustered(402, Dimension, 5, seed: 13);
        var data = new float[1000 * Dimension];
        for (int row = 0; row < 1000; row++)
        {
            int source = row - 600;
            if (row < 300)
            {
                source = 400;
            }
            else if (row < 600)
            {
                source = 401;
            }
            scattered.AsSpan(source * Dimension, Dimension).CopyTo(data.AsSpan(row * Dimension));
        }

        // Threaded builds interleave differently on every run, so they get several seeds: before orphaned
        // nodes were adopted after the batch, about one 4-thread build in four left some copies unreachable.
        ulong[] seeds = threads == 1 ? [9] : [9, 10, 11, 12, 13, 14];
        foreach (ulong seed in seeds)
        {
            var index = Build(data, new HnswOptions { Connectivity = 4, EfConstruction = 32, Seed = seed }, threads: threads);
            int missing = 0;
            for (int row = 0; row < 1000; row++)
            {
                long own = row;
                var parameters = new HnswSearchParameters { Threads = 1, EfSearch = 1, Filter = id => id == own };
                var (ids, distances) = Search(index, data.AsSpan(row * Dimension, Dimension).ToArray(), 1, parameters);
                if (ids[0] != own || distances[0] != 0f)
                {
                    missing++;
                }
            }

            Assert.True(missing == 0, $"seed {seed}: {missing} rows unreachable");
        }
    }

    [Fact]
    public void DuplicateQueryFindsTiedCopies()
    {
        var data = new float[500 * Dimension];
        float[] point = Tests.Quantization.QuantizationTestData.Clustered(1, Dimension, 1, seed: 4);
        for (int row = 0; row < 500; row++)
        {
            point.CopyTo(data.AsSpan(row * Dimension));
        }

        var index = Build(data, new HnswOptions { Connectivity = 4, EfConstruction = 16, Seed = 2 });
        var (ids, distances) = Search(index, point, 500, new HnswSearchParameters { Threads = 1 });
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), ids);
        Assert.All(distances, d => Assert.Equal(0f, d));
    }

    [Fact]
    public void DeletedNeverReturned()
    {
        var (data, queries, _) = Clustered.Value;
        var index = Build(data, new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 3 });
        var (before, _) = Search(index, queries, K);
        var deleted = before.Where((_, i) => i % 3 == 0).Distinct().ToArray();
        foreach (long id in deleted)
        {
            index.MarkDeleted(id);
        }

        var (after, _) = Search(index, queries, K);
        Assert.Empty(after.Intersect(deleted));
        Assert.DoesNotContain(-1L, after);
        Assert.True(index.IsDeleted(deleted[0]));
    }

    [Fact]
    public void HalfDeletedKeepsRecall()
    {
        // Deleted nodes still route the beam, so the undeleted half stays findable (measured recall 1.000).
        var (data, queries, _) = Clustered.Value;
        var index = Build(data, new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 3 });
        for (long id = 0; id < 3000; id += 2)
        {
            index.MarkDeleted(id);
        }

        var (ids, _) = Search(index, queries, K, new HnswSearchParameters { Threads = 1, EfSearch = 32 });
        long[] truth = ExactFiltered(data, queries, K, id => id % 2 == 1);
        double recall = Recall(ids, truth, K);
        Assert.Equal(1500, index.DeletedCount);
        Assert.True(recall >= 0.95, $"recall@{K} {recall:F4} over the undeleted half is below the floor 0.95");
    }

    [Fact]
    public void FailedAddLeavesIndexUnchanged()
    {
        var (data, _, _) = Clustered.Value;
        var index = Build(data.AsSpan(0, 200 * Dimension).ToArray(), new HnswOptions { Connectivity = 4, EfConstruction = 16 });
        byte[] before = SaveBytes(index);
        long[] ids = Enumerable.Range(500, 100).Select(i => (long)i).ToArray();
        ids[99] = 5;
        Assert.Throws<ArgumentException>(() => index.Add(data.AsSpan(200 * Dimension, 100 * Dimension), ids, threads: 1));
        Assert.Equal(before, SaveBytes(index));
    }

    [Fact]
    public void FilterRespected()
    {
        var (data, queries, _) = Clustered.Value;
        var (ids, _) = Search(Shared.Value, queries, K, new HnswSearchParameters { Threads = 1, Filter = id => id % 7 == 3 });
        Assert.All(ids, id => Assert.Equal(3, id % 7));
        var truth = ExactFiltered(data, queries, K, id => id % 7 == 3);
        Assert.True(Recall(ids, truth, K) >= 0.9);
    }

    [Fact]
    public void ExcludedIdsLeftOut()
    {
        var (data, _, _) = Clustered.Value;
        float[] queries = data.AsSpan(0, 50 * Dimension).ToArray();
        long[] excluded = Enumerable.Range(0, 50).Select(i => (long)i).ToArray();
        var (ids, _) = Search(Shared.Value, queries, K, new HnswSearchParameters { Threads = 1, ExcludedIds = excluded });
        for (int q = 0; q < 50; q++)
        {
            Assert.DoesNotContain((long)q, ids.AsSpan(q * K, K).ToArray());
        }
    }

    [Fact]
    public void ConcurrentSearchEqualsSequential()
    {
        var (_, queries, _) = Clustered.Value;
        var (sequentialIds, sequentialDistances) = Search(Shared.Value, queries, K);
        var (parallelIds, parallelDistances) = Search(Shared.Value, queries, K, new HnswSearchParameters { Threads = 4 });
        Assert.Equal(sequentialIds, parallelIds);
        Assert.Equal(sequentialDistances, parallelDistances);
    }

    [Fact]
    public void SingleThreadBuildIsDeterministic()
    {
        var (data, _, _) = Clustered.Value;
        var options = new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 3 };
        byte[] first = SaveBytes(Build(data, options));
        byte[] second = SaveBytes(Build(data, options));
        Assert.Equal(first, second);
    }

    [Fact]
    public void MultiThreadBuildMeetsFloor()
    {
        var (data, queries, truth) = Clustered.Value;
        var index = Build(data, new HnswOptions { Connectivity = 8, EfConstruction = 64, Seed = 3 }, threads: 4);
        var (ids, _) = Search(index, queries, K, new HnswSearchParameters { Threads = 1, EfSearch = 64 });
        double recall = Recall(ids, truth, K);
        Assert.True(recall >= 0.97, $"recall@{K} {recall:F4} of a 4-thread build is below the floor 0.97 (single-thread builds measure 1.000)");
    }

    private static long[] ExactFiltered(float[] data, float[] queries, int k, Func<long, bool> keep)
    {
        var rows = Enumerable.Range(0, data.Length / Dimension).Where(r => keep(r)).ToArray();
        var exact = new ExactIndex(Dimension, DistanceMetric.SquaredEuclidean);
        var kept = new float[rows.Length * Dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            data.AsSpan(rows[i] * Dimension, Dimension).CopyTo(kept.AsSpan(i * Dimension));
        }

        exact.Add(kept, rows.Select(r => (long)r).ToArray());
        int nq = queries.Length / Dimension;
        var ids = new long[nq * k];
        exact.Search(queries, k, ids, new float[nq * k]);
        return ids;
    }
}
