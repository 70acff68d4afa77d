using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;
using static MLNetRetrieval.Tests.Indexes.Ivf.IvfTestData;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

/// <summary>IVF-PQ with the coarse centroids searched through an HNSW graph (<see cref="CoarseSearch.Hnsw"/>).</summary>
public class IvfHnswCoarseTests
{
    private const int ManyLists = 256;

    /// <summary>Recall@10 floor at nprobe 16 with re-ranking, set under the measured value (see the test).</summary>
    private const double RecallFloor = 0.90;

    /// <summary>An exact-coarse index trained on the shared data and its HNSW twin: same centroids and codebooks.</summary>
    private static readonly Lazy<(IvfPqIndex Exact, IvfPqIndex Graph)> Twins = new(() =>
    {
        var exact = new IvfPqIndex(Dimension, ManyLists, numberOfSubquantizers: 8, storeVectorsForReranking: true);
        exact.Train(Clustered.Value.Base, Training);
        IvfPqIndex graph = IvfPqIndex.Load(new MemoryStream(Bytes(exact.Save)));
        graph.CoarseSearch = CoarseSearch.Hnsw;
        graph.CoarseConnectivity = 8;
        graph.CoarseEfSearch = ManyLists;
        exact.Add(Clustered.Value.Base);
        graph.Add(Clustered.Value.Base);
        return (exact, graph);
    });

    [Fact]
    public void WideBeamProbesExactLists()
    {
        var (exact, graph) = Twins.Value;
        float[] queries = Clustered.Value.Queries;
        int nq = queries.Length / Dimension;
        Assert.Equal(ProbeLists(exact, queries, nq, 8), ProbeLists(graph, queries, nq, 8));
    }

    [Fact]
    public void WideBeamAssignsExactLists()
    {
        var (exact, graph) = Twins.Value;
        int mismatches = 0;
        for (long id = 0; id < Clustered.Value.Base.Length / Dimension; id++)
        {
            exact.TryGetList(id, out int expected);
            graph.TryGetList(id, out int actual);
            mismatches += expected == actual ? 0 : 1;
        }

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void WideBeamMatchesExactResults()
    {
        var (exact, graph) = Twins.Value;
        var parameters = new IvfSearchParameters { NumberOfProbes = 8, RerankCount = 40 };
        var (expected, _) = Search(exact, Clustered.Value.Queries, K, parameters);
        var (actual, _) = Search(graph, Clustered.Value.Queries, K, parameters);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void RecallAboveFloor()
    {
        // Measured 0.942 at nlist 256, graph M = 8, coarse ef 16 (below nlist), nprobe 16, rerank 40.
        var index = new IvfPqIndex(Dimension, ManyLists, numberOfSubquantizers: 8, storeVectorsForReranking: true)
        {
            CoarseSearch = CoarseSearch.Hnsw,
            CoarseConnectivity = 8,
            CoarseEfSearch = 16,
        };
        index.Train(Clustered.Value.Base, Training);
        index.Add(Clustered.Value.Base);
        var (found, _) = Search(index, Clustered.Value.Queries, K, new IvfSearchParameters { NumberOfProbes = 16, RerankCount = 40 });
        Assert.True(Recall(found, Clustered.Value.Truth, K) >= RecallFloor, $"recall {Recall(found, Clustered.Value.Truth, K)}");
    }

    [Fact]
    public void SaveLoadIsBitIdentical()
    {
        var (_, graph) = Twins.Value;
        byte[] first = Bytes(graph.Save);
        IvfPqIndex loaded = IvfPqIndex.Load(new MemoryStream(first));
        Assert.Equal(first, Bytes(loaded.Save));
    }

    [Fact]
    public void LoadedIndexKeepsSettings()
    {
        var (_, graph) = Twins.Value;
        IvfPqIndex loaded = IvfPqIndex.Load(new MemoryStream(Bytes(graph.Save)));
        Assert.Equal(CoarseSearch.Hnsw, loaded.CoarseSearch);
        Assert.Equal(8, loaded.CoarseConnectivity);
        Assert.Equal(ManyLists, loaded.CoarseEfSearch);
    }

    [Fact]
    public void LoadedIndexSearchesAlike()
    {
        var (_, graph) = Twins.Value;
        string path = Path.Combine(Path.GetTempPath(), $"ivf-hnsw-{Guid.NewGuid():N}.bin");
        try
        {
            using (FileStream file = File.Create(path))
            {
                graph.Save(file);
            }

            using FileStream input = File.OpenRead(path);
            IvfPqIndex loaded = IvfPqIndex.Load(input);
            var parameters = new IvfSearchParameters { NumberOfProbes = 4 };
            Assert.Equal(Search(graph, Clustered.Value.Queries, K, parameters).Ids, Search(loaded, Clustered.Value.Queries, K, parameters).Ids);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CorruptGraphRejected()
    {
        var (_, graph) = Twins.Value;
        byte[] bytes = Bytes(graph.Save);
        int section = FindSection(bytes, "CQHN");
        // Past the 12-byte section header, the setting fields (9 bytes) and the graph's own 16-byte header: a META byte.
        bytes[section + 12 + 9 + 16 + 12] ^= 0x5A;
        Assert.Throws<InvalidDataException>(() => IvfPqIndex.Load(new MemoryStream(bytes)));
    }

    [Fact]
    public void BadCoarseSearchByteRejected()
    {
        var (_, graph) = Twins.Value;
        byte[] bytes = Bytes(graph.Save);
        bytes[FindSection(bytes, "CQHN") + 12] = 7;
        var error = Assert.Throws<InvalidDataException>(() => IvfPqIndex.Load(new MemoryStream(bytes)));
        Assert.Contains("coarseSearch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExactIndexStaysVersionOne()
    {
        var (exact, _) = Twins.Value;
        Assert.Equal(1u, BitConverter.ToUInt32(Bytes(exact.Save), 8));
    }

    [Fact]
    public void ConnectivityOutOfRangeRejected()
    {
        var index = new IvfPqIndex(Dimension, Lists, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.CoarseConnectivity = 1);
    }

    private static int[] ProbeLists(IvfPqIndex index, float[] queries, int nq, int nprobe)
    {
        var lists = new int[nq * nprobe];
        var distances = new float[nq * nprobe];
        var norms = new float[nq];
        for (int q = 0; q < nq; q++)
        {
            norms[q] = GemmKernel.SquaredNormChain(queries.AsSpan(q * Dimension, Dimension));
        }

        PackedBase packed = index.Coarse.GetPacked(index.Width);
        index.Coarse.Probe(packed, queries, nq, norms, nprobe, lists, distances, new ProbeScratch(packed, nprobe), CancellationToken.None);
        return lists;
    }

    private static int FindSection(byte[] bytes, string fourcc)
    {
        byte[] tag = System.Text.Encoding.ASCII.GetBytes(fourcc);
        int at = bytes.AsSpan().IndexOf(tag);
        Assert.True(at > 0, $"section {fourcc} not found");
        return at;
    }
}
