using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.Tests.Quantization;
using static MLNetRetrieval.Tests.Indexes.Ivf.IvfTestData;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

public class IvfPqIndexTests
{
    /// <summary>ADC recall@10 floor at nprobe 4, set under the measured value (see the test).</summary>
    private const double RecallFloor = 0.45;

    /// <summary>Relative tolerance between float32 table sums and the float64 reference distance.</summary>
    private const double DistanceTolerance = 1e-4;

    private static readonly Lazy<IvfPqIndex> Shared = new(() =>
    {
        var index = new IvfPqIndex(Dimension, Lists, numberOfSubquantizers: 8, storeVectorsForReranking: true);
        index.Train(Clustered.Value.Base, Training);
        index.Add(Clustered.Value.Base);
        return index;
    });

    public static IEnumerable<object[]> Widths() => VectorWidths.Available().Select(width => new object[] { (int)width });

    [Fact]
    public void RecallAboveFloor()
    {
        // Measured 0.5485 with M = 8 (4-dimensional subspaces) at nprobe 4.
        var (_, queries, truth) = Clustered.Value;
        var (ids, _) = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 4 });
        double recall = Recall(ids, truth, K);
        Assert.True(recall >= RecallFloor, $"recall@10 is {recall}");
    }

    [Fact]
    public void RerankingImprovesRecall()
    {
        // Measured 0.5485 without and 0.988 with re-ranking of 100 candidates at nprobe 4.
        var (_, queries, truth) = Clustered.Value;
        var (plain, _) = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 4 });
        var (reranked, _) = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 4, RerankCount = 100 });
        double before = Recall(plain, truth, K);
        double after = Recall(reranked, truth, K);
        Assert.True(after >= before + 0.2, $"re-ranking moved recall@10 from {before} to {after}");
        Assert.True(after >= 0.95, $"re-ranked recall@10 is {after}");
    }

    [Fact]
    public void RecallGrowsWithProbes()
    {
        var (_, queries, truth) = Clustered.Value;
        double previous = 0;
        foreach (int nprobe in new[] { 1, 2, 4, 8, 16, 32 })
        {
            var (ids, _) = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = nprobe, RerankCount = 50 });
            double recall = Recall(ids, truth, K);
            Assert.True(recall >= previous, $"recall@10 fell from {previous} to {recall} at nprobe {nprobe}");
            previous = recall;
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void DistancesMatchDecodedVectors(int widthBits)
    {
        // Each returned distance must be ‖q − c − decode(code)‖² for the returned id, computed here in float64.
        IvfPqIndex index = IvfPqIndex.Load(new MemoryStream(Bytes(Shared.Value.Save)));
        index.Width = (VectorWidth)widthBits;
        var (_, queries, _) = Clustered.Value;
        float[] some = queries.AsSpan(0, 20 * Dimension).ToArray();
        var (ids, distances) = Search(index, some, K, new IvfSearchParameters { NumberOfProbes = 3 });
        var code = new byte[index.Quantizer.CodeSize];
        var decoded = new float[Dimension];
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.True(index.TryGetList(ids[i], out int list));
            Assert.True(index.TryGetCode(ids[i], code));
            index.Quantizer.Decode(code, 1, decoded);
            for (int p = 0; p < Dimension; p++)
            {
                decoded[p] += index.Centroids[(list * Dimension) + p];
            }

            double expected = QuantizationTestData.SquaredDistance(some.AsSpan(i / K * Dimension, Dimension), decoded);
            Assert.True(Math.Abs(distances[i] - expected) <= DistanceTolerance * Math.Max(1, expected), $"result {i}: {distances[i]} vs {expected}");
        }
    }

    [Fact]
    public void PrecomputedTableMatchesDirectTables()
    {
        IvfPqIndex index = IvfPqIndex.Load(new MemoryStream(Bytes(Shared.Value.Save)));
        var (_, queries, _) = Clustered.Value;
        var parameters = new IvfSearchParameters { NumberOfProbes = 4 };
        var (_, precomputed) = Search(index, queries, K, parameters);
        index.UsePrecomputedTable = false;
        var (_, direct) = Search(index, queries, K, parameters);
        for (int i = 0; i < direct.Length; i++)
        {
            Assert.True(Math.Abs(precomputed[i] - direct[i]) <= DistanceTolerance * Math.Max(1, direct[i]), $"result {i}: {precomputed[i]} vs {direct[i]}");
        }
    }

    [Fact]
    public void RawEncodingFindsNeighbors()
    {
        // Measured 0.4985 at nprobe 4 without residuals.
        var (data, queries, truth) = Clustered.Value;
        var index = new IvfPqIndex(Dimension, Lists, 8, encodeResiduals: false);
        index.Train(data, Training);
        index.Add(data);
        var (ids, _) = Search(index, queries, K, new IvfSearchParameters { NumberOfProbes = 4 });
        double recall = Recall(ids, truth, K);
        Assert.True(recall >= 0.4, $"recall@10 is {recall}");
    }

    [Fact]
    public void ThreadCountDoesNotChangeResults()
    {
        var (_, queries, _) = Clustered.Value;
        var single = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 3, Threads = 1, RerankCount = 20 });
        foreach (int threads in new[] { 2, 5 })
        {
            var parallel = Search(Shared.Value, queries, K, new IvfSearchParameters { NumberOfProbes = 3, Threads = threads, RerankCount = 20 });
            Assert.Equal(single.Ids, parallel.Ids);
            Assert.Equal(single.Distances, parallel.Distances);
        }
    }

    [Fact]
    public void RemovedIdsNeverReturned()
    {
        var (data, queries, truth) = Clustered.Value;
        IvfPqIndex index = IvfPqIndex.Load(new MemoryStream(Bytes(Shared.Value.Save)));
        long[] removed = truth.Distinct().Where((_, i) => i % 2 == 0).ToArray();
        Assert.Equal(removed.Length, index.Remove(removed));
        var (ids, _) = Search(index, queries, K, new IvfSearchParameters { NumberOfProbes = Lists, RerankCount = 30 });
        Assert.Empty(ids.Intersect(removed));

        index.Add(data.AsSpan(0, Dimension), new long[] { 9000 });
        var (found, distances) = Search(index, data.AsSpan(0, Dimension).ToArray(), 1, new IvfSearchParameters { NumberOfProbes = Lists, RerankCount = 5 });
        Assert.Contains(found[0], new[] { 0L, 9000L });
        Assert.Equal(0f, distances[0]);
    }

    [Fact]
    public void SaveLoadIsBitIdentical()
    {
        var (_, queries, _) = Clustered.Value;
        byte[] saved = Bytes(Shared.Value.Save);
        IvfPqIndex loaded = IvfPqIndex.Load(new MemoryStream(saved));
        Assert.Equal(saved, Bytes(loaded.Save));
        Assert.True(loaded.StoreVectorsForReranking);
        Assert.True(loaded.EncodeResiduals);

        var parameters = new IvfSearchParameters { NumberOfProbes = 5, RerankCount = 40 };
        var before = Search(Shared.Value, queries, K, parameters);
        var after = Search(loaded, queries, K, parameters);
        Assert.Equal(before.Ids, after.Ids);
        Assert.Equal(before.Distances, after.Distances);
    }

    [Fact]
    public void CorruptFilesRejected()
    {
        byte[] saved = Bytes(Shared.Value.Save);
        foreach (int length in new[] { 0, 12, 50, saved.Length / 3, saved.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => IvfPqIndex.Load(new MemoryStream(saved.AsSpan(0, length).ToArray())));
        }

        foreach (int position in new[] { 25, 300, saved.Length / 2, saved.Length - 20 })
        {
            byte[] flipped = (byte[])saved.Clone();
            flipped[position] ^= 0x11;
            Assert.Throws<InvalidDataException>(() => IvfPqIndex.Load(new MemoryStream(flipped)));
        }

        Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(saved)));
    }

    [Fact]
    public void DimensionNotMultipleNamesBoth()
    {
        var error = Assert.Throws<ArgumentException>(() => new IvfPqIndex(30, 4, 7));
        Assert.Contains("d = 30", error.Message);
        Assert.Contains("M = 7", error.Message);
    }

    [Fact]
    public void TooFewTrainingVectorsNamesCounts()
    {
        var index = new IvfPqIndex(8, 300, 4);
        var error = Assert.Throws<ArgumentException>(() => index.Train(new float[299 * 8]));
        Assert.Contains("(300)", error.Message);
        Assert.Contains("got 299", error.Message);
    }

    [Fact]
    public void SearchBeforeTrainThrows()
    {
        var index = new IvfPqIndex(8, 2, 4);
        Assert.Throws<InvalidOperationException>(() => index.Search(new float[8], 1, new long[1], new float[1]));
    }

    [Fact]
    public void InvalidSearchSettingsThrow()
    {
        float[] query = Clustered.Value.Queries.AsSpan(0, Dimension).ToArray();
        var ids = new long[K];
        var distances = new float[K];
        Assert.Throws<ArgumentOutOfRangeException>(() => Shared.Value.Search(query, K, ids, distances, new IvfSearchParameters { NumberOfProbes = Lists + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shared.Value.Search(query, K, ids, distances, new IvfSearchParameters { NumberOfProbes = -3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shared.Value.Search(query, K, ids, distances, new IvfSearchParameters { RerankCount = K - 1 }));

        var plain = new IvfPqIndex(Dimension, 2, 8);
        plain.Train(Clustered.Value.Base.AsSpan(0, 500 * Dimension), Training);
        Assert.Throws<ArgumentException>(() => plain.Search(query, K, ids, distances, new IvfSearchParameters { RerankCount = 20 }));
    }
}
