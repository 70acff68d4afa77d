using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

public class SingleQueryKernelTests
{
    public static IEnumerable<object[]> Cases() =>
        from width in VectorWidths.Available()
        from shape in new[] { (Rows: 1, D: 1), (Rows: 37, D: 19), (Rows: 130, D: 64), (Rows: 64, D: 3) }
        select new object[] { (int)width, shape.Rows, shape.D };

    [Theory]
    [MemberData(nameof(Cases))]
    public unsafe void KernelMatchesScalarTwin(int widthBits, int rows, int d)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(rows * 1000 + d);
        float[] query = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        float[] data = Enumerable.Range(0, rows * d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        float rowTerm = GemmKernel.SquaredNormChain(query);
        PackedBase packed = PackedBase.Create(data, rows, d, addSquaredNorms: true, width);
        int panels = (rows + packed.PanelWidth - 1) / packed.PanelWidth;
        var actual = new float[panels * packed.PanelWidth];
        fixed (float* pQuery = query, pPanels = packed.Panels, pTerms = packed.ColumnTerms, pOut = actual)
        {
            SingleQueryKernel.Distances(width, pQuery, d, rowTerm, pPanels, panels, pTerms, -2f, clampAtZero: true, pOut);
        }

        var expected = new float[rows];
        SingleQueryKernel.DistancesScalar(query, rowTerm, data, rows, packed.ColumnTerms, -2f, clampAtZero: true, expected);
        Assert.Equal(expected, actual.AsSpan(0, rows).ToArray());
    }
}
