using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Tests.Quantization;

public class PqIndexTests
{
    /// <summary>Recall@10 floor, set under the 0.67 measured on this data with M = 16 (2-dimensional subspaces).</summary>
    private const double RecallFloor = 0.6;

    public static IEnumerable<object[]> Widths() => VectorWidths.Available().Select(width => new object[] { (int)width });

    private static readonly Lazy<(float[] Base, float[] Queries, PqIndex Index)> Shared = new(() =>
    {
        float[] data = QuantizationTestData.Clustered(4000, 32, 50, seed: 21);
        float[] queries = QuantizationTestData.Clustered(100, 32, 50, seed: 21 + 1000);
        var index = new PqIndex(32, 16);
        index.Train(data, new KMeansOptions { MaxIterations = 10 });
        index.Add(data);
        return (data, queries, index);
    });

    [Fact]
    public void RecallAtTenAboveFloor()
    {
        var (data, queries, index) = Shared.Value;
        const int K = 10;
        int nq = queries.Length / 32;
        var exact = new ExactIndex(32, DistanceMetric.SquaredEuclidean);
        exact.Add(data);
        var truth = new long[nq * K];
        exact.Search(queries, K, truth, new float[nq * K]);
        var found = new long[nq * K];
        index.Search(queries, K, found, new float[nq * K]);
        int hits = 0;
        for (int q = 0; q < nq; q++)
        {
            var expected = truth.AsSpan(q * K, K).ToArray();
            hits += found.AsSpan(q * K, K).ToArray().Count(id => expected.Contains(id));
        }

        Assert.True(hits / (double)(nq * K) >= RecallFloor, $"recall@10 {hits / (double)(nq * K)}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SearchMatchesNaiveAdcRanking(int widthBits)
    {
        var (_, queries, shared) = Shared.Value;
        var stream = new MemoryStream();
        shared.Save(stream);
        stream.Position = 0;
        PqIndex index = PqIndex.Load(stream);
        index.Width = (VectorWidth)widthBits;
        const int K = 7;
        int nq = 21;
        var ids = new long[nq * K];
        var distances = new float[nq * K];
        long[] excluded = Enumerable.Range(0, nq).Select(q => q % 3 == 0 ? -1L : q * 11L).ToArray();
        index.Search(queries.AsSpan(0, nq * 32), K, ids, distances, new SearchParameters { Threads = 2, ExcludedIds = excluded });

        var table = new float[16 * 256];
        for (int q = 0; q < nq; q++)
        {
            index.Quantizer.ComputeDistanceTable(queries.AsSpan(q * 32, 32), table);
            var expected = Enumerable.Range(0, index.Count)
                .Where(row => index.GetId(row) != excluded[q])
                .Select(row => (Distance: index.Quantizer.ComputeAdcDistance(index.GetCode(row), table), Id: index.GetId(row)))
                .OrderBy(pair => pair.Distance).ThenBy(pair => pair.Id).Take(K).ToArray();
            Assert.Equal(expected.Select(pair => pair.Id).ToArray(), ids.AsSpan(q * K, K).ToArray());
            Assert.Equal(expected.Select(pair => pair.Distance).ToArray(), distances.AsSpan(q * K, K).ToArray());
        }
    }

    [Fact]
    public void SmallIndexPadsResults()
    {
        float[] data = QuantizationTestData.Clustered(300, 4, 5, seed: 22);
        var index = new PqIndex(4, 2);
        index.Train(data, new KMeansOptions { MaxIterations = 2 });
        index.Add(data.AsSpan(0, 3 * 4), new long[] { 10, 20, 30 });
        var ids = new long[5];
        var distances = new float[5];
        index.Search(data.AsSpan(0, 4), 5, ids, distances);
        Assert.Equal(-1, ids[3]);
        Assert.Equal(float.PositiveInfinity, distances[4]);
        Assert.Equal(new long[] { 10, 20, 30 }, ids.Take(3).Order().ToArray());
    }

    [Fact]
    public void SaveLoadIsBitIdentical()
    {
        var (_, _, index) = Shared.Value;
        var first = new MemoryStream();
        index.Save(first);
        first.Position = 0;
        PqIndex loaded = PqIndex.Load(first);
        var second = new MemoryStream();
        loaded.Save(second);
        Assert.Equal(first.ToArray(), second.ToArray());
        Assert.Equal(index.Count, loaded.Count);
    }

    [Fact]
    public void SaveLoadThroughFile()
    {
        var (_, queries, index) = Shared.Value;
        string path = Path.Combine(Path.GetTempPath(), $"pq-index-{Environment.ProcessId}.bin");
        try
        {
            using (var file = File.Create(path))
            {
                index.Save(file);
            }

            PqIndex loaded;
            using (var file = File.OpenRead(path))
            {
                loaded = PqIndex.Load(file);
            }

            var expected = new long[10 * 5];
            var actual = new long[10 * 5];
            index.Search(queries.AsSpan(0, 10 * 32), 5, expected, new float[50]);
            loaded.Search(queries.AsSpan(0, 10 * 32), 5, actual, new float[50]);
            Assert.Equal(expected, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CorruptByteIsRejected()
    {
        var (_, _, index) = Shared.Value;
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] bytes = stream.ToArray();
        bytes[bytes.Length / 2] ^= 0x10;
        Assert.Throws<InvalidDataException>(() => PqIndex.Load(new MemoryStream(bytes)));
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        var (_, _, index) = Shared.Value;
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] bytes = stream.ToArray();
        foreach (int length in new[] { 0, 10, 40, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => PqIndex.Load(new MemoryStream(bytes, 0, length)));
        }
    }

    [Fact]
    public void WrongSignatureIsRejected()
    {
        var exact = new ExactIndex(4, DistanceMetric.SquaredEuclidean);
        var stream = new MemoryStream();
        exact.Save(stream);
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => PqIndex.Load(stream));
        Assert.Contains("MLNRPQIX", error.Message);
    }

    [Fact]
    public void UntrainedAddIsRejected()
    {
        var index = new PqIndex(8, 2);
        Assert.Throws<InvalidOperationException>(() => index.Add(new float[8]));
    }

    [Fact]
    public void DuplicateIdIsRejected()
    {
        float[] data = QuantizationTestData.Clustered(300, 4, 5, seed: 23);
        var index = new PqIndex(4, 2);
        index.Train(data, new KMeansOptions { MaxIterations = 1 });
        index.Add(data.AsSpan(0, 4), new long[] { 5 });
        var error = Assert.Throws<ArgumentException>(() => index.Add(data.AsSpan(4, 4), new long[] { 5 }));
        Assert.Contains("Id 5", error.Message);
    }

    [Fact]
    public void CanceledSearchThrows()
    {
        var (_, queries, index) = Shared.Value;
        using var source = new CancellationTokenSource();
        source.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => index.Search(queries, 3, new long[300], new float[300], new SearchParameters { CancellationToken = source.Token }));
    }
}
