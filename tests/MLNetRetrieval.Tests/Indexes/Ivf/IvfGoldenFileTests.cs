using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

/// <summary>
/// Version 1 files written by the first IVF release: they must keep loading and re-save byte for byte. The rows are
/// 300 four-dimensional vectors drawn from <c>new Random(7)</c> in [−4, 4) and rounded to two decimals. The IVF-Flat
/// file has nlist 3, ids 100 + 7i for rows 0–11 with id 114 removed, and default nprobe 2. The IVF-PQ file has nlist
/// 2, M 2, residual codes, stored vectors, ids 50–59 for rows 0–9, and default nprobe 2.
/// </summary>
public class IvfGoldenFileTests
{
    // Byte offsets in ivf-flat-v1.bin: a 16-byte header, then each section is a fourcc and an i64 length (12 bytes)
    // followed by its fields. "IVF " fields start at 28, "SIZE" values at 121, "IDS " values at 157.
    private const int ProbesOffset = 36;
    private const int CountOffset = 41;
    private const int SizesOffset = 121;
    private const int IdsOffset = 157;

    [Fact]
    public void FlatVersionOneLoads()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath("ivf-flat-v1.bin"));
        IvfFlatIndex index = IvfFlatIndex.Load(new MemoryStream(golden));
        Assert.Equal(11, index.Count);
        Assert.Equal(3, index.NumberOfLists);
        Assert.Equal(2, index.DefaultNumberOfProbes);
        Assert.False(index.Contains(114));
        Assert.Equal(golden, IvfTestData.Bytes(index.Save));

        float[] rows = Rows();
        var vector = new float[4];
        Assert.True(index.TryGetVector(121, vector));
        Assert.Equal(rows.AsSpan(3 * 4, 4).ToArray(), vector);
        var (ids, distances) = IvfTestData.Search(index, vector, 1, new IvfSearchParameters { NumberOfProbes = 3 });
        Assert.Equal(121L, ids[0]);
        Assert.Equal(0f, distances[0]);
    }

    [Fact]
    public void PqVersionOneLoads()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath("ivf-pq-v1.bin"));
        IvfPqIndex index = IvfPqIndex.Load(new MemoryStream(golden));
        Assert.Equal(10, index.Count);
        Assert.Equal(2, index.NumberOfSubquantizers);
        Assert.True(index.EncodeResiduals);
        Assert.True(index.StoreVectorsForReranking);
        Assert.Equal(golden, IvfTestData.Bytes(index.Save));

        float[] query = Rows().AsSpan(6 * 4, 4).ToArray();
        var (ids, distances) = IvfTestData.Search(index, query, 3, new IvfSearchParameters { NumberOfProbes = 2, RerankCount = 10 });
        Assert.Equal(56L, ids[0]);
        Assert.Equal(0f, distances[0]);
    }

    [Fact]
    public void ProbesAboveListsRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath("ivf-flat-v1.bin"));
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(ProbesOffset), 4);
        var error = Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(file)));
        Assert.Contains($"defaultNumberOfProbes at byte offset {ProbesOffset}", error.Message);
    }

    [Fact]
    public void ListSizesMustSumToCount()
    {
        byte[] file = File.ReadAllBytes(GoldenPath("ivf-flat-v1.bin"));
        long first = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(SizesOffset));
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(SizesOffset), first + 1);
        var error = Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(file)));
        Assert.Contains("list sizes", error.Message);
    }

    [Fact]
    public void HugeListRejectedBeforeAllocating()
    {
        byte[] file = File.ReadAllBytes(GoldenPath("ivf-flat-v1.bin"));
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(CountOffset), 100_000_000);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(SizesOffset), 100_000_000);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(SizesOffset + 8), 0);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(SizesOffset + 16), 0);
        var error = Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(file)));
        Assert.Contains("100000000 elements", error.Message);
    }

    [Fact]
    public void DuplicateIdRejected()
    {
        byte[] file = File.ReadAllBytes(GoldenPath("ivf-flat-v1.bin"));
        file.AsSpan(IdsOffset, 8).CopyTo(file.AsSpan(IdsOffset + 8));
        var error = Assert.Throws<InvalidDataException>(() => IvfFlatIndex.Load(new MemoryStream(file)));
        Assert.Contains($"ids[1] at byte offset {IdsOffset + 8}", error.Message);
    }

    private static float[] Rows()
    {
        var random = new Random(7);
        var rows = new float[300 * 4];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (float)Math.Round((random.NextDouble() * 8) - 4, 2);
        }

        return rows;
    }

    private static string GoldenPath(string name, [CallerFilePath] string sourcePath = "") =>
        Path.Combine(Path.GetDirectoryName(sourcePath)!, "Golden", name);
}
