using System.Runtime.Intrinsics;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Turns the dot products of a GEMM tile into distances:
/// <c>distance[i, j] = RowTerms[i] + ColumnTerms[j] + DotScale · dot[i, j]</c>, then <c>max(distance, 0)</c>
/// when <see cref="ClampAtZero"/> is set. Squared L2 uses ‖x‖², ‖y‖² and −2; inner product uses 0, 0 and −1;
/// cosine on unit vectors uses 1, 0 and −1.
/// </summary>
internal unsafe struct DistanceEpilogue
{
    /// <summary>One term per A row, padded to a multiple of <see cref="GemmKernel.TileRows"/>.</summary>
    public float* RowTerms;

    /// <summary>One term per B row, padded to a multiple of the panel width.</summary>
    public float* ColumnTerms;

    public float DotScale;

    public bool ClampAtZero;
}

/// <summary>
/// Cache-blocked, register-tiled C = A·Bᵀ for row-major A (m × d) and B (n × d), the core of batched
/// distance computation (‖x‖² + ‖y‖² − 2x·y).
/// </summary>
/// <remarks>
/// B is packed into panels of <see cref="PanelWidth"/> rows, layout (panels, d, panelWidth), so one k step
/// of a panel is <see cref="TileRegisters"/> contiguous registers; A is packed the same way with panels of
/// <see cref="TileRows"/> rows, so its values are broadcast from consecutive addresses. Padding rows are zero.
/// Loop nest per block of <see cref="BlockColumns"/> B rows: k blocks of at most <c>kcMax</c>, then A tiles,
/// then B panels. One A micro-panel (TileRows × kc floats, 32 KiB at kc = 1024) stays in L1 while the B
/// panels of the block (BlockColumns × kc floats) stay in L2.
/// Every output element is one fused multiply-add chain in k order at every width, so results are
/// bit-identical to <see cref="MultiplyTransposedScalar"/> and do not depend on the blocking.
/// </remarks>
internal static unsafe partial class GemmKernel
{
    /// <summary>Default k block: an A micro-panel of 8 × 1024 floats fits a 48 KiB L1 data cache.</summary>
    public const int DefaultKc = 1024;

    /// <summary>Target size in bytes of one block of packed B, sized to stay in a 1 MiB L2 cache.</summary>
    private const int BlockBytes = 512 * 1024;

    /// <summary>Returns the number of B rows in one packed panel at <paramref name="width"/>.</summary>
    public static int PanelWidth(VectorWidth width) => TileRegisters * Lanes(width);

    /// <summary>Returns the number of B rows per cache block: whole panels filling about 512 KiB.</summary>
    public static int BlockColumns(int d, int kcMax, int panelWidth)
    {
        int kc = Math.Max(1, Math.Min(d, kcMax));
        int panels = Math.Max(1, BlockBytes / (kc * sizeof(float) * panelWidth));
        return panels * panelWidth;
    }

    /// <summary>Returns the float count of <paramref name="rows"/> rows packed into panels of <paramref name="panelWidth"/>.</summary>
    public static int PackedLength(int rows, int d, int panelWidth)
    {
        int panels = (rows + panelWidth - 1) / panelWidth;
        return checked(panels * panelWidth * d);
    }

    /// <summary>
    /// Packs row-major <paramref name="rows"/> (rowCount × d) into <paramref name="destination"/>, layout
    /// (panels, d, panelWidth), with zero padding rows after the last row.
    /// </summary>
    public static void PackPanels(ReadOnlySpan<float> rows, int rowCount, int d, int panelWidth, Span<float> destination)
    {
        int panels = (rowCount + panelWidth - 1) / panelWidth;
        for (int panel = 0; panel < panels; panel++)
        {
            Span<float> target = destination.Slice(panel * d * panelWidth, d * panelWidth);
            int first = panel * panelWidth;
            int valid = Math.Min(panelWidth, rowCount - first);
            if (valid < panelWidth)
            {
                target.Clear();
            }

            for (int r = 0; r < valid; r++)
            {
                ReadOnlySpan<float> source = rows.Slice((first + r) * d, d);
                for (int p = 0; p < d; p++)
                {
                    target[(p * panelWidth) + r] = source[p];
                }
            }
        }
    }

    /// <summary>
    /// Computes C = A·Bᵀ with A (m × d), B (n × d) and C (m × n), all row-major, at <paramref name="width"/>.
    /// Packs both inputs; used by tests and by callers without a packed B.
    /// </summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int d, Span<float> c, VectorWidth width, int kcMax = DefaultKc)
    {
        VectorWidths.EnsureSupported(width);
        CheckShapes(a, m, b, n, d, c);
        int panelWidth = PanelWidth(width);
        float[] packedA = new float[PackedLength(m, d, TileRows)];
        float[] packedB = new float[PackedLength(n, d, panelWidth)];
        PackPanels(a, m, d, TileRows, packedA);
        PackPanels(b, n, d, panelWidth, packedB);

        int aPanels = (m + TileRows - 1) / TileRows;
        int blockColumns = BlockColumns(d, kcMax, panelWidth);
        int ldc = blockColumns;
        float[] tile = new float[aPanels * TileRows * ldc];
        fixed (float* pa = packedA, pb = packedB, pc = tile)
        {
            for (int j0 = 0; j0 < n; j0 += blockColumns)
            {
                int columns = Math.Min(blockColumns, n - j0);
                int bPanels = (columns + panelWidth - 1) / panelWidth;
                ComputeBlock(width, pa, aPanels, pb + ((long)j0 * d), bPanels, d, kcMax, pc, ldc, null);
                for (int i = 0; i < m; i++)
                {
                    new ReadOnlySpan<float>(pc + ((long)i * ldc), columns).CopyTo(c.Slice((i * n) + j0, columns));
                }
            }
        }
    }

    /// <summary>
    /// Scalar twin of <see cref="MultiplyTransposed"/>: one fused multiply-add chain per element, in k order.
    /// </summary>
    public static void MultiplyTransposedScalar(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int d, Span<float> c)
    {
        CheckShapes(a, m, b, n, d, c);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < d; p++)
                {
                    sum = MathF.FusedMultiplyAdd(a[(i * d) + p], b[(j * d) + p], sum);
                }

                c[(i * n) + j] = sum;
            }
        }
    }

    /// <summary>
    /// Computes one block of C: <paramref name="aPanels"/> packed A micro-panels against
    /// <paramref name="bPanels"/> packed B panels, written to <paramref name="c"/> with row stride
    /// <paramref name="ldc"/> (at least <c>bPanels * PanelWidth(width)</c>). With an epilogue the block
    /// contains distances, otherwise dot products.
    /// </summary>
    public static void ComputeBlock(VectorWidth width, float* packedA, int aPanels, float* packedB, int bPanels, int d, int kcMax, float* c, int ldc, DistanceEpilogue* epilogue)
    {
        switch (width)
        {
            case VectorWidth.Vector512:
                ComputeBlock<Vector512<float>, Vector512Ops>(packedA, aPanels, packedB, bPanels, d, kcMax, c, ldc, epilogue);
                break;
            case VectorWidth.Vector256:
                ComputeBlock<Vector256<float>, Vector256Ops>(packedA, aPanels, packedB, bPanels, d, kcMax, c, ldc, epilogue);
                break;
            case VectorWidth.Vector128:
                ComputeBlock<Vector128<float>, Vector128Ops>(packedA, aPanels, packedB, bPanels, d, kcMax, c, ldc, epilogue);
                break;
            default:
                ComputeBlock<float, ScalarOps>(packedA, aPanels, packedB, bPanels, d, kcMax, c, ldc, epilogue);
                break;
        }
    }

    private static void ComputeBlock<TVec, TOps>(float* packedA, int aPanels, float* packedB, int bPanels, int d, int kcMax, float* c, int ldc, DistanceEpilogue* epilogue)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        int panelWidth = TileRegisters * TOps.Count;
        kcMax = Math.Max(1, kcMax);
        for (int k0 = 0; k0 < d; k0 += kcMax)
        {
            int kc = Math.Min(kcMax, d - k0);
            bool accumulate = k0 > 0;
            DistanceEpilogue* finish = k0 + kc == d ? epilogue : null;
            for (int ir = 0; ir < aPanels; ir++)
            {
                float* aPanel = packedA + ((long)ir * d * TileRows) + ((long)k0 * TileRows);
                float* cRow = c + ((long)ir * TileRows * ldc);
                for (int jr = 0; jr < bPanels; jr++)
                {
                    float* bPanel = packedB + ((long)jr * d * panelWidth) + ((long)k0 * panelWidth);
                    MicroKernel<TVec, TOps>(aPanel, bPanel, kc, cRow + (jr * panelWidth), ldc, accumulate, finish, ir * TileRows, jr * panelWidth);
                }
            }
        }
    }

    /// <summary>
    /// Returns Σ v[p]² as one fused multiply-add chain in index order, the same rounding as a tile element,
    /// so ‖x‖² + ‖x‖² − 2x·x is exactly 0 for a vector against itself.
    /// </summary>
    public static float SquaredNormChain(ReadOnlySpan<float> v)
    {
        float sum = 0f;
        for (int p = 0; p < v.Length; p++)
        {
            sum = MathF.FusedMultiplyAdd(v[p], v[p], sum);
        }

        return sum;
    }

    private static int Lanes(VectorWidth width) => width switch
    {
        VectorWidth.Vector512 => Vector512<float>.Count,
        VectorWidth.Vector256 => Vector256<float>.Count,
        VectorWidth.Vector128 => Vector128<float>.Count,
        _ => 1,
    };

    private static void CheckShapes(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int d, Span<float> c)
    {
        if (m < 0 || n < 0 || d < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(d), $"GEMM shape must have m >= 0, n >= 0 and d >= 1, got m = {m}, n = {n}, d = {d}.");
        }

        if (a.Length != checked(m * d) || b.Length != checked(n * d) || c.Length != checked(m * n))
        {
            throw new ArgumentException($"GEMM buffers must hold m*d = {m * d}, n*d = {n * d} and m*n = {m * n} floats, got {a.Length}, {b.Length} and {c.Length}.", nameof(c));
        }
    }
}
