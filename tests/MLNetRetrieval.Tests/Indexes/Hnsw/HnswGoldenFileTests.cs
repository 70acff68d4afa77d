using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Tests.Indexes.Hnsw;

/// <summary>
/// A file in format version 1 must keep loading and re-save byte for byte. It contains 60
/// four-dimensional vectors drawn from <c>new Random(13)</c> in [−4, 4) and rounded to two decimals, with ids
/// 1000 + i, built on one thread with M 4, efConstruction 16, efSearch 7, seed 3 and pruned connections kept; id 1005
/// is marked deleted.
/// </summary>
public class HnswGoldenFileTests
{
    // Byte offsets in hnsw-v1.bin: a 16-byte header, then the "META" fourcc and i64 length (12 bytes), so the fields
    // start at 28. They are dimension 28, metric 32, connectivity 33, efConstruction 37, efSearch 41, keepPruned 45,
    // seed 46, generator state 54, count 62, entry point 70 and max level 74.
    private const int ConnectivityOffset = 33;
    private const int CountOffset = 62;
    private const int RowCount = 60;

    [Fact]
    public void VersionOneLoads()
    {
        HnswIndex index = HnswIndex.Load(new MemoryStream(Golden()));
        Assert.Equal(RowCount, index.Count);
        Assert.Equal(4, index.Connectivity);
        Assert.Equal(16, index.EfConstruction);
        Assert.Equal(7, index.EfSearch);
        Assert.True(index.KeepPrunedConnections);
        Assert.Equal(3UL, index.Seed);
    }

    [Fact]
    public void VersionOneResavesIdentically()
    {
        byte[] golden = Golden();
        HnswIndex index = HnswIndex.Load(new MemoryStream(golden));
        Assert.Equal(golden, HnswTestData.SaveBytes(index));
    }

    [Fact]
    public void VersionOneKeepsVectorsAndFlags()
    {
        HnswIndex index = HnswIndex.Load(new MemoryStream(Golden()));
        float[] rows = Rows();
        Assert.Equal(rows.AsSpan(17 * 4, 4).ToArray(), index.GetVector(1017).ToArray());
        Assert.True(index.IsDeleted(1005));
        Assert.False(index.IsDeleted(1006));
    }

    [Fact]
    public void VersionOneFindsEveryRow()
    {
        HnswIndex index = HnswIndex.Load(new MemoryStream(Golden()));
        float[] rows = Rows();
        var ids = new long[RowCount];
        var distances = new float[RowCount];
        index.Search(rows, 1, ids, distances, new HnswSearchParameters { Threads = 1, EfSearch = RowCount });
        for (int row = 0; row < RowCount; row++)
        {
            // Row 5 is deleted, so its query returns another row.
            if (row != 5)
            {
                Assert.Equal(1000L + row, ids[row]);
            }
        }

        Assert.NotEqual(1005L, ids[5]);
    }

    [Fact]
    public void VersionOneAcceptsNewRows()
    {
        HnswIndex index = HnswIndex.Load(new MemoryStream(Golden()));
        index.Add(new float[] { 9f, 9f, 9f, 9f }, new long[] { 5000 }, threads: 1);
        var ids = new long[1];
        index.Search(new float[] { 9f, 9f, 9f, 9f }, 1, ids, new float[1], new HnswSearchParameters { Threads = 1 });
        Assert.Equal(5000L, ids[0]);
    }

    [Fact]
    public void BadConnectivityRejected()
    {
        byte[] file = Golden();
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(ConnectivityOffset), 1);
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(file)));
        Assert.Contains($"connectivity at byte offset {ConnectivityOffset}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NegativeCountRejected()
    {
        byte[] file = Golden();
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(CountOffset), -1);
        var error = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(file)));
        Assert.Contains($"count at byte offset {CountOffset}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedFileRejected()
    {
        byte[] file = Golden();
        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(file, 0, file.Length - 9)));
    }

    private static float[] Rows()
    {
        var random = new Random(13);
        var rows = new float[RowCount * 4];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (float)Math.Round((random.NextDouble() * 8) - 4, 2);
        }

        return rows;
    }

    private static byte[] Golden() => File.ReadAllBytes(GoldenPath());

    private static string GoldenPath([CallerFilePath] string sourcePath = "") =>
        Path.Combine(Path.GetDirectoryName(sourcePath)!, "Golden", "hnsw-v1.bin");
}
