using System.Buffers.Binary;
using System.Text;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Persistence;
using static MLNetRetrieval.Tests.Indexes.Hnsw.HnswTestData;

namespace MLNetRetrieval.Tests.Indexes.Hnsw;

public class HnswPersistenceTests
{
    private static readonly HnswOptions Options = new() { Connectivity = 6, EfConstruction = 40, EfSearch = 20, Seed = 11 };

    private static readonly Lazy<(HnswIndex Index, byte[] Bytes)> Saved = new(() =>
    {
        var (data, _, _) = Clustered.Value;
        var index = Build(data.AsSpan(0, 1500 * Dimension).ToArray(), Options);
        index.MarkDeleted(17);
        return (index, SaveBytes(index));
    });

    [Fact]
    public void FileRoundTripIsBitIdentical()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hnsw-{Guid.NewGuid():N}.bin");
        try
        {
            using (var file = File.Create(path))
            {
                Saved.Value.Index.Save(file);
            }

            HnswIndex loaded;
            using (var file = File.OpenRead(path))
            {
                loaded = HnswIndex.Load(file);
            }

            Assert.Equal(Saved.Value.Bytes, SaveBytes(loaded));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadedIndexSearchesIdentically()
    {
        var (_, queries, _) = Clustered.Value;
        HnswIndex loaded = HnswIndex.Load(new MemoryStream(Saved.Value.Bytes));
        var (expectedIds, expectedDistances) = Search(Saved.Value.Index, queries, K);
        var (ids, distances) = Search(loaded, queries, K);
        Assert.Equal(expectedIds, ids);
        Assert.Equal(expectedDistances, distances);
        Assert.True(loaded.IsDeleted(17));
    }

    [Fact]
    public void AddAfterLoadMatchesOneBuild()
    {
        // The level generator state is saved, so a build split by a save and load equals a build in one go.
        var (data, _, _) = Clustered.Value;
        float[] first = data.AsSpan(0, 1500 * Dimension).ToArray();
        float[] second = data.AsSpan(1500 * Dimension, 500 * Dimension).ToArray();
        var whole = new HnswIndex(Dimension, DistanceMetric.SquaredEuclidean, Options);
        whole.Add(first, threads: 1);
        whole.Add(second, threads: 1);

        var half = new HnswIndex(Dimension, DistanceMetric.SquaredEuclidean, Options);
        half.Add(first, threads: 1);
        HnswIndex loaded = HnswIndex.Load(new MemoryStream(SaveBytes(half)));
        loaded.Add(second, threads: 1);
        Assert.Equal(SaveBytes(whole), SaveBytes(loaded));
    }

    [Fact]
    public void EfSearchSettableAfterLoad()
    {
        HnswIndex loaded = HnswIndex.Load(new MemoryStream(Saved.Value.Bytes));
        Assert.Equal(20, loaded.EfSearch);
        loaded.EfSearch = 200;
        HnswIndex reloaded = HnswIndex.Load(new MemoryStream(SaveBytes(loaded)));
        Assert.Equal(200, reloaded.EfSearch);
    }

    [Fact]
    public void EmptyIndexRoundTrips()
    {
        var empty = new HnswIndex(5, DistanceMetric.Cosine);
        HnswIndex loaded = HnswIndex.Load(new MemoryStream(SaveBytes(empty)));
        Assert.Equal(0, loaded.Count);
        loaded.Add(new float[] { 1, 2, 3, 4, 5 });
        var ids = new long[2];
        loaded.Search(new float[] { 1, 2, 3, 4, 5 }, 2, ids, new float[2]);
        Assert.Equal(new long[] { 0, -1 }, ids);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(100)]
    [InlineData(5000)]
    [InlineData(-1)]
    public void TruncatedFileRejected(int length)
    {
        byte[] bytes = Saved.Value.Bytes;
        int keep = length < 0 ? bytes.Length - 1 : length;
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes.AsSpan(0, keep).ToArray())));
        Assert.Contains("byte offset", error.Message);
    }

    [Fact]
    public void FlippedByteRejectedByChecksum()
    {
        byte[] bytes = (byte[])Saved.Value.Bytes.Clone();
        bytes[bytes.Length / 2] ^= 0x10;
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes)));
        Assert.Contains("invalid", error.Message);
    }

    [Theory]
    [InlineData("META", 5, 1, "connectivity")]
    [InlineData("META", 9, 0, "efConstruction")]
    [InlineData("META", 13, 0, "efSearch")]
    [InlineData("META", 42, 1500, "entry point")]
    [InlineData("META", 46, 9, "max level")]
    [InlineData("PRNT", 4 * 5, 5, "parents[5]")]
    [InlineData("PRNT", 4 * 5, 1500, "parents[5]")]
    [InlineData("LNK0", 0, 13, "row 0 layer 0 link count")]
    [InlineData("LNK0", 4, 1500, "row 0 layer 0 link 0")]
    [InlineData("LNK0", 4 * 12, 7, "row 0 layer 0 unused slot 11")]
    public void CorruptFieldRejected(string fourcc, int offset, int value, string field)
    {
        byte[] bytes = (byte[])Saved.Value.Bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(SectionData(bytes, fourcc) + offset), value);
        FixChecksum(bytes);
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes)));
        Assert.Contains($"invalid {field}", error.Message);
    }

    [Theory]
    [InlineData("LEVL", 64, "levels[3]")]
    [InlineData("DELE", 2, "deleted flags[3]")]
    [InlineData("META", 2, "keepPrunedConnections")]
    public void CorruptByteRejected(string fourcc, byte value, string field)
    {
        byte[] bytes = (byte[])Saved.Value.Bytes.Clone();
        int offset = fourcc == "META" ? 17 : 3;
        bytes[SectionData(bytes, fourcc) + offset] = value;
        FixChecksum(bytes);
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes)));
        Assert.Contains($"invalid {field}", error.Message);
    }

    [Fact]
    public void OtherSignatureRejected()
    {
        var exact = new ExactIndex(3, DistanceMetric.SquaredEuclidean);
        using var stream = new MemoryStream();
        exact.Save(stream);
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(stream));
        Assert.Contains("MLNRHNSW", error.Message);
    }

    /// <summary>Returns the offset of the first data byte of section <paramref name="fourcc"/>.</summary>
    private static int SectionData(byte[] bytes, string fourcc)
    {
        int offset = BinaryFormat.HeaderLength;
        while (offset < bytes.Length)
        {
            string tag = Encoding.ASCII.GetString(bytes, offset, 4);
            long length = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset + 4));
            if (tag == fourcc)
            {
                return offset + BinaryFormat.SectionHeaderLength;
            }

            offset += BinaryFormat.SectionHeaderLength + (int)length;
        }

        throw new InvalidOperationException($"No section {fourcc}.");
    }

    private static void FixChecksum(byte[] bytes)
    {
        int trailer = bytes.Length - BinaryFormat.SectionHeaderLength - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32.Compute(bytes.AsSpan(0, trailer)));
    }
}
