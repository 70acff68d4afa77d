using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Persistence;
using MLNetRetrieval.Tests.Kernels;
using Xunit;

namespace MLNetRetrieval.Tests.Persistence;

public class ExactIndexFormatTests
{
    // Offsets in a saved file: 16-byte header, then the "META" section header (12 bytes) and its fields.
    private const int DimensionOffset = 28;
    private const int MetricOffset = 32;
    private const int CountOffset = 33;
    private const int IdsLengthOffset = 45;

    [Theory]
    [InlineData(DistanceMetric.SquaredEuclidean)]
    [InlineData(DistanceMetric.InnerProduct)]
    [InlineData(DistanceMetric.Cosine)]
    public void SaveLoadIsBitIdentical(DistanceMetric metric)
    {
        var random = new Random(51);
        var index = new ExactIndex(13, metric);
        index.Add(KernelTestData.Gaussian(random, 40 * 13), Enumerable.Range(0, 40).Select(i => (long)(i * 11) + 5).ToArray());
        byte[] saved = Save(index);
        ExactIndex loaded = ExactIndex.Load(new MemoryStream(saved));

        Assert.Equal(saved, Save(loaded));
        Assert.Equal(metric, loaded.Metric);
        Assert.Equal(index.Count, loaded.Count);
        for (int row = 0; row < index.Count; row++)
        {
            Assert.Equal(index.GetId(row), loaded.GetId(row));
            Assert.True(index.GetVector(row).SequenceEqual(loaded.GetVector(row)), $"row {row} differs");
        }

        float[] queries = KernelTestData.Gaussian(random, 6 * 13);
        var (expectedIds, expectedDistances) = Indexes.ExactIndexTests.Search(index, queries, 4, null);
        var (actualIds, actualDistances) = Indexes.ExactIndexTests.Search(loaded, queries, 4, null);
        Assert.Equal(expectedIds, actualIds);
        Assert.Equal(expectedDistances, actualDistances);
    }

    [Fact]
    public void GoldenVersionOneLoads()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath());
        ExactIndex index = ExactIndex.Load(new MemoryStream(golden));
        Assert.Equal(3, index.Dimension);
        Assert.Equal(DistanceMetric.SquaredEuclidean, index.Metric);
        Assert.Equal(new long[] { 10, 3, 7 }, Enumerable.Range(0, index.Count).Select(index.GetId).ToArray());
        Assert.Equal(new[] { 0f, 4f, -1.25f }, index.GetVector(1).ToArray());
        Assert.Equal(golden, Save(index));
    }

    [Fact]
    public void LoadWorksFromNonSeekableStream()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath());
        ExactIndex index = ExactIndex.Load(new ForwardOnlyStream(golden));
        Assert.Equal(3, index.Count);
    }

    [Fact]
    public void EveryTruncationIsRejected()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath());
        for (int length = 0; length < golden.Length; length++)
        {
            var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(golden, 0, length)));
            Assert.Contains("byte offset", error.Message);
        }
    }

    [Fact]
    public void EveryFlippedByteIsRejected()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath());
        for (int offset = 0; offset < golden.Length; offset++)
        {
            byte[] corrupt = golden.ToArray();
            corrupt[offset] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(corrupt)));
        }
    }

    [Fact]
    public void FlippedVectorByteFailsChecksum()
    {
        byte[] corrupt = File.ReadAllBytes(GoldenPath());
        corrupt[^20] ^= 0x01;
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(corrupt)));
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void HugeCountIsRejectedBeforeAllocating()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(CountOffset), 100_000_000);
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains("ids at byte offset", error.Message);
        Assert.Contains("100000000 elements", error.Message);
    }

    [Fact]
    public void NegativeCountIsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(CountOffset), -1);
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains($"count at byte offset {CountOffset}", error.Message);
    }

    [Fact]
    public void HugeSectionLengthIsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(IdsLengthOffset), long.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains($"\"IDS \" section length at byte offset {IdsLengthOffset}", error.Message);
    }

    [Fact]
    public void BadDimensionIsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(DimensionOffset), 0);
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains($"dimension at byte offset {DimensionOffset}", error.Message);
    }

    [Fact]
    public void UnknownMetricIsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        file[MetricOffset] = 9;
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains($"metric at byte offset {MetricOffset}", error.Message);
    }

    [Fact]
    public void NewerReaderVersionIsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), 2);
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains("reader version 2", error.Message);
        Assert.Contains("up to version 1", error.Message);
    }

    [Fact]
    public void WrongSignatureIsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath());
        file[0] = (byte)'X';
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains("signature", error.Message);
    }

    [Fact]
    public void DuplicateIdIsRejected()
    {
        byte[] file = WriteFile(metric: 0, ids: new long[] { 4, 4 }, vectors: new float[] { 1, 2 });
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains("ids[1]", error.Message);
        Assert.Contains("row 0", error.Message);
    }

    [Fact]
    public void NonUnitCosineVectorIsRejected()
    {
        byte[] file = WriteFile(metric: (byte)DistanceMetric.Cosine, ids: new long[] { 0, 1 }, vectors: new float[] { 1, 3 });
        var error = Assert.Throws<InvalidDataException>(() => ExactIndex.Load(new MemoryStream(file)));
        Assert.Contains("vectors row 1", error.Message);
    }

    [Fact]
    public void WriterRejectsShortSection()
    {
        var format = new BinaryFormatWriter(new MemoryStream(), "MLNRTEST", 1, 1);
        format.BeginSection("DATA", 8);
        format.WriteInt32(1);
        Assert.Throws<InvalidOperationException>(format.EndSection);
    }

    [Fact]
    public void Crc32MatchesKnownValue()
    {
        // Standard check value of CRC-32/ISO-HDLC for the ASCII digits 1 to 9.
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    /// <summary>Writes a dimension-1 exact index file with a valid checksum, whatever the field values.</summary>
    private static byte[] WriteFile(byte metric, long[] ids, float[] vectors)
    {
        var stream = new MemoryStream();
        var format = new BinaryFormatWriter(stream, "MLNRXACT", 1, 1);
        format.BeginSection("META", 13);
        format.WriteInt32(1);
        format.WriteByte(metric);
        format.WriteInt64(ids.Length);
        format.EndSection();
        format.BeginSection("IDS ", 8L * ids.Length);
        format.WriteInt64s(ids);
        format.EndSection();
        format.BeginSection("VECS", 4L * vectors.Length);
        format.WriteSingles(vectors);
        format.EndSection();
        format.Finish();
        return stream.ToArray();
    }

    private static byte[] Save(ExactIndex index)
    {
        var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }

    private static string GoldenPath([CallerFilePath] string sourcePath = "") =>
        Path.Combine(Path.GetDirectoryName(sourcePath)!, "Golden", "exact-index-v1.bin");

    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
