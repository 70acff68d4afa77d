using MLNetRetrieval.Indexes;
using MLNetRetrieval.Quantization;
using MLNetRetrieval.Tests.Quantization;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

/// <summary>
/// IVF-PQ at nlist 4096 with the coarse centroids searched through an HNSW graph whose beam (32) is far below nlist,
/// against its exact-coarse twin with the same centroids and codebooks. The dimension is 8 so the test stays fast.
/// </summary>
public class IvfHnswLargeNlistTests
{
    private const int Dimension = 8;
    private const int NumberOfLists = 4096;
    private const int Rows = 24_000;
    private const int K = 10;
    private const int Probes = 16;

    /// <summary>Largest accepted recall@10 loss of the graph twin; measured 0.002 (0.934 exact, 0.932 graph).</summary>
    private const double RecallTolerance = 0.01;

    /// <summary>Smallest accepted fraction of vectors the graph puts in their true nearest list; measured 1.0.</summary>
    private const double AgreementFloor = 0.99;

    private static readonly Lazy<Setup> Shared = new(() =>
    {
        float[] data = QuantizationTestData.Clustered(Rows, Dimension, 300, seed: 43);
        float[] queries = QuantizationTestData.Clustered(300, Dimension, 300, seed: 44);
        var exact = new IvfPqIndex(Dimension, NumberOfLists, numberOfSubquantizers: 4);
        exact.Train(data, new KMeansOptions { MaxIterations = 6, Seed = 3, Initialization = KMeansInitialization.Random });

        using var saved = new MemoryStream();
        exact.Save(saved);
        IvfPqIndex graph = IvfPqIndex.Load(new MemoryStream(saved.ToArray()));
        graph.CoarseSearch = CoarseSearch.Hnsw;
        graph.CoarseConnectivity = 16;
        graph.CoarseEfSearch = 32;

        exact.Add(data);
        graph.Add(data);
        long[] truth = ExactIds(data, queries);
        return new Setup(data, queries, truth, exact, graph);
    });

    [Fact]
    public void GraphRecallCloseToExact()
    {
        Setup setup = Shared.Value;
        double exactRecall = RecallOf(setup.Exact, setup);
        double graphRecall = RecallOf(setup.Graph, setup);
        Assert.True(exactRecall - graphRecall <= RecallTolerance, $"exact {exactRecall}, graph {graphRecall}");
    }

    [Fact]
    public void GraphAssignsTrueNearestList()
    {
        Setup setup = Shared.Value;
        var truth = new int[Rows];
        KMeans.Assign(setup.Exact.Centroids, NumberOfLists, Dimension, setup.Data, Rows, truth, Span<float>.Empty);
        var found = new int[Rows];
        setup.Graph.AssignToLists(setup.Data, found);
        int same = 0;
        for (int i = 0; i < Rows; i++)
        {
            same += found[i] == truth[i] ? 1 : 0;
        }

        double agreement = (double)same / Rows;
        Assert.True(agreement >= AgreementFloor, $"agreement {agreement}");
    }

    [Fact]
    public void ExactAssignToListsMatchesAdd()
    {
        Setup setup = Shared.Value;
        var lists = new int[Rows];
        setup.Exact.AssignToLists(setup.Data, lists);
        int mismatches = 0;
        for (int i = 0; i < Rows; i++)
        {
            setup.Exact.TryGetList(i, out int stored);
            mismatches += stored == lists[i] ? 0 : 1;
        }

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void GraphBuildReportsProgress()
    {
        Setup setup = Shared.Value;
        var index = new IvfPqIndex(Dimension, NumberOfLists, numberOfSubquantizers: 4) { CoarseSearch = CoarseSearch.Hnsw, CoarseConnectivity = 8 };
        var last = default(HnswAddProgress);
        index.Train(setup.Data, new KMeansOptions { MaxIterations = 1, Seed = 3, Initialization = KMeansInitialization.Random }, new SyncProgress(p => last = p));
        Assert.Equal(NumberOfLists, last.Inserted);
    }

    [Fact]
    public void CanceledGraphBuildLeavesUntrained()
    {
        Setup setup = Shared.Value;
        using var cancel = new CancellationTokenSource();
        var index = new IvfPqIndex(Dimension, NumberOfLists, numberOfSubquantizers: 4) { CoarseSearch = CoarseSearch.Hnsw, CoarseConnectivity = 8 };
        var options = new KMeansOptions { MaxIterations = 1, Seed = 3, Initialization = KMeansInitialization.Random, CancellationToken = cancel.Token };
        Assert.Throws<OperationCanceledException>(() => index.Train(setup.Data, options, new SyncProgress(p =>
        {
            if (p.Inserted >= NumberOfLists / 2)
            {
                cancel.Cancel();
            }
        })));
        Assert.False(index.IsTrained);
    }

    [Fact]
    public void CanceledAddStoresNothing()
    {
        Setup setup = Shared.Value;
        IvfPqIndex copy = IvfPqIndex.Load(new MemoryStream(Save(setup.Graph)));
        int before = copy.Count;
        Assert.Throws<OperationCanceledException>(() => copy.Add(setup.Data.AsSpan(0, 100 * Dimension), new CancellationToken(canceled: true)));
        Assert.Equal(before, copy.Count);
    }

    private static double RecallOf(IvfPqIndex index, Setup setup)
    {
        int nq = setup.Queries.Length / Dimension;
        var ids = new long[nq * K];
        index.Search(setup.Queries, K, ids, new float[nq * K], new IvfSearchParameters { NumberOfProbes = Probes, Threads = 1 });
        int hits = 0;
        for (int q = 0; q < nq; q++)
        {
            ReadOnlySpan<long> expected = setup.Truth.AsSpan(q * K, K);
            foreach (long id in ids.AsSpan(q * K, K))
            {
                hits += expected.Contains(id) ? 1 : 0;
            }
        }

        return (double)hits / (nq * K);
    }

    private static long[] ExactIds(float[] data, float[] queries)
    {
        var exact = new ExactIndex(Dimension, DistanceMetric.SquaredEuclidean);
        exact.Add(data);
        int nq = queries.Length / Dimension;
        var ids = new long[nq * K];
        exact.Search(queries, K, ids, new float[nq * K]);
        return ids;
    }

    private static byte[] Save(IvfPqIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }

    private sealed record Setup(float[] Data, float[] Queries, long[] Truth, IvfPqIndex Exact, IvfPqIndex Graph);

    private sealed class SyncProgress(Action<HnswAddProgress> onReport) : IProgress<HnswAddProgress>
    {
        public void Report(HnswAddProgress value) => onReport(value);
    }
}
