using Xunit;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Tests.Kernels;

public class TopKTests
{
    public static IEnumerable<object[]> Widths() => KernelTestData.Widths();

    [Theory]
    [MemberData(nameof(Widths))]
    public void PushRowMatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(31);
        foreach (int length in new[] { 1, 3, 17, 100, 1000 })
        {
            foreach (int k in new[] { 1, 5, 10, 64 })
            {
                float[] row = KernelTestData.SmallIntegers(random, length, maxAbs: 4);
                long[] ids = Enumerable.Range(0, length).Select(i => (long)random.Next(0, 1 << 20) * length + i).ToArray();
                long excluded = ids[random.Next(length)];
                var (expectedDistances, expectedIds) = Select(row, ids, excluded, k, (r, i, e, d, h, ref c) => TopK.PushRowScalar(r, i, e, d, h, ref c));
                var (actualDistances, actualIds) = Select(row, ids, excluded, k, (r, i, e, d, h, ref c) => TopK.PushRow(r, i, e, d, h, ref c, width));
                Assert.Equal(expectedIds, actualIds);
                Assert.Equal(expectedDistances, actualDistances);
            }
        }
    }

    [Fact]
    public void PushRowMatchesSortedReference()
    {
        var random = new Random(32);
        const int Length = 500, K = 20;
        float[] row = KernelTestData.SmallIntegers(random, Length, maxAbs: 3);
        long[] ids = Enumerable.Range(0, Length).Select(i => (long)(Length - i)).ToArray();
        var (distances, found) = Select(row, ids, excluded: -1, K, (r, i, e, d, h, ref c) => TopK.PushRow(r, i, e, d, h, ref c, VectorWidths.Best));
        var expected = Enumerable.Range(0, Length).OrderBy(j => row[j]).ThenBy(j => ids[j]).Take(K).ToArray();
        Assert.Equal(expected.Select(j => ids[j]).ToArray(), found);
        Assert.Equal(expected.Select(j => row[j]).ToArray(), distances);
    }

    [Fact]
    public void DrainPadsMissingSlots()
    {
        var distances = new float[4];
        var ids = new long[4];
        int count = 0;
        TopK.Push(distances, ids, ref count, 2f, 9);
        TopK.Push(distances, ids, ref count, 1f, 4);
        var outDistances = new float[4];
        var outIds = new long[4];
        TopK.Drain(distances, ids, ref count, outDistances, outIds);
        Assert.Equal(new long[] { 4, 9, -1, -1 }, outIds);
        Assert.Equal(new[] { 1f, 2f, float.PositiveInfinity, float.PositiveInfinity }, outDistances);
    }

    [Fact]
    public void PushKeepsLowerIdOnTies()
    {
        var distances = new float[2];
        var ids = new long[2];
        int count = 0;
        foreach (long id in new long[] { 8, 3, 5, 1 })
        {
            TopK.Push(distances, ids, ref count, 1f, id);
        }

        var outDistances = new float[2];
        var outIds = new long[2];
        TopK.Drain(distances, ids, ref count, outDistances, outIds);
        Assert.Equal(new long[] { 1, 3 }, outIds);
    }

    private delegate void PushRowAction(ReadOnlySpan<float> row, ReadOnlySpan<long> rowIds, long excludedId, Span<float> distances, Span<long> ids, ref int count);

    private static (float[] Distances, long[] Ids) Select(float[] row, long[] ids, long excluded, int k, PushRowAction push)
    {
        var heapDistances = new float[k];
        var heapIds = new long[k];
        int count = 0;

        // Feed the row in uneven chunks, as the search does block by block.
        for (int start = 0; start < row.Length; start += 37)
        {
            int length = Math.Min(37, row.Length - start);
            push(row.AsSpan(start, length), ids.AsSpan(start, length), excluded, heapDistances, heapIds, ref count);
        }

        var outDistances = new float[k];
        var outIds = new long[k];
        TopK.Drain(heapDistances, heapIds, ref count, outDistances, outIds);
        return (outDistances, outIds);
    }
}
