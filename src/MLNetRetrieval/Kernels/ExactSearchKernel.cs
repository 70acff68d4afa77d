namespace MLNetRetrieval.Kernels;

/// <summary>
/// A base set packed once for <see cref="ExactSearchKernel"/>: the vectors in GEMM panels of
/// <see cref="GemmKernel.PanelWidth"/> rows plus one distance term per row (‖y‖² for squared L2, 0 otherwise).
/// </summary>
internal sealed class PackedBase
{
    private PackedBase(VectorWidth width, int count, int dimension, float[] panels, float[] columnTerms)
    {
        Width = width;
        Count = count;
        Dimension = dimension;
        Panels = panels;
        ColumnTerms = columnTerms;
    }

    public VectorWidth Width { get; }

    public int Count { get; }

    public int Dimension { get; }

    public int PanelWidth => GemmKernel.PanelWidth(Width);

    /// <summary>Packed vectors, layout (panels, Dimension, PanelWidth), zero padded.</summary>
    public float[] Panels { get; }

    /// <summary>Per-row distance term, padded with zeros to a whole number of panels.</summary>
    public float[] ColumnTerms { get; }

    /// <summary>Packs <paramref name="count"/> row-major vectors; <paramref name="addSquaredNorms"/> selects ‖y‖² terms.</summary>
    public static PackedBase Create(ReadOnlySpan<float> vectors, int count, int dimension, bool addSquaredNorms, VectorWidth width)
    {
        VectorWidths.EnsureSupported(width);
        int panelWidth = GemmKernel.PanelWidth(width);
        var panels = new float[GemmKernel.PackedLength(count, dimension, panelWidth)];
        GemmKernel.PackPanels(vectors, count, dimension, panelWidth, panels);
        var terms = new float[panels.Length / dimension];
        if (addSquaredNorms)
        {
            for (int row = 0; row < count; row++)
            {
                ReadOnlySpan<float> v = vectors.Slice(row * dimension, dimension);
                terms[row] = GemmKernel.SquaredNormChain(v);
            }
        }

        return new PackedBase(width, count, dimension, panels, terms);
    }
}

/// <summary>How the GEMM dot products become "smaller is closer" distances; see <see cref="DistanceEpilogue"/>.</summary>
/// <param name="DotScale">Factor on the dot product: −2 for squared L2, −1 otherwise.</param>
/// <param name="ClampAtZero">Whether to replace negative rounding residue with 0.</param>
internal readonly record struct DistanceForm(float DotScale, bool ClampAtZero);

/// <summary>Per-thread buffers of <see cref="ExactSearchKernel"/>, reused across query blocks.</summary>
internal sealed class ExactSearchScratch
{
    public ExactSearchScratch(int maxQueries, int dimension, int blockColumns, int k)
    {
        int rows = RoundUp(maxQueries, GemmKernel.TileRows);
        PackedQueries = new float[checked(rows * dimension)];
        RowTerms = new float[rows];
        Tile = new float[checked(rows * blockColumns)];
        HeapDistances = new float[checked(maxQueries * k)];
        HeapIds = new long[checked(maxQueries * k)];
        HeapCounts = new int[maxQueries];
        MaxQueries = maxQueries;
        BlockColumns = blockColumns;
    }

    public int MaxQueries { get; }

    public int BlockColumns { get; }

    public float[] PackedQueries { get; }

    public float[] RowTerms { get; }

    public float[] Tile { get; }

    public float[] HeapDistances { get; }

    public long[] HeapIds { get; }

    public int[] HeapCounts { get; }

    private static int RoundUp(int value, int multiple) => checked((value + multiple - 1) / multiple * multiple);
}

/// <summary>
/// Exact k-NN for one block of queries against a <see cref="PackedBase"/>: GEMM tiles with the distance
/// epilogue, then a threshold-filtered top-k pass over each tile row.
/// </summary>
internal static unsafe class ExactSearchKernel
{
    /// <summary>
    /// Searches <paramref name="queryCount"/> row-major <paramref name="queries"/> and writes, per query, the
    /// k best (distance, id) pairs best first into <paramref name="outDistances"/> and <paramref name="outIds"/>
    /// (layout (queryCount, k)), padded with +∞ and −1. <paramref name="rowTerms"/> contains one distance term
    /// per query (‖x‖² for squared L2, 1 for cosine, 0 for inner product); <paramref name="baseIds"/> contains the
    /// id of each base row; <paramref name="excludedIds"/> contains one id per query to skip (−1 for none) or is
    /// empty. <paramref name="cancellationToken"/> is polled once per block of base rows.
    /// </summary>
    public static void SearchBlock(
        PackedBase packed,
        ReadOnlySpan<long> baseIds,
        ReadOnlySpan<float> queries,
        int queryCount,
        ReadOnlySpan<float> rowTerms,
        DistanceForm form,
        ReadOnlySpan<long> excludedIds,
        int k,
        Span<float> outDistances,
        Span<long> outIds,
        ExactSearchScratch scratch,
        int kcMax,
        CancellationToken cancellationToken)
    {
        int d = packed.Dimension;
        int panelWidth = packed.PanelWidth;
        int blockColumns = scratch.BlockColumns;
        int aPanels = (queryCount + GemmKernel.TileRows - 1) / GemmKernel.TileRows;

        GemmKernel.PackPanels(queries, queryCount, d, GemmKernel.TileRows, scratch.PackedQueries);
        Span<float> terms = scratch.RowTerms;
        terms.Clear();
        rowTerms.Slice(0, queryCount).CopyTo(terms);
        Span<int> counts = scratch.HeapCounts.AsSpan(0, queryCount);
        counts.Clear();

        fixed (float* pa = scratch.PackedQueries, pb = packed.Panels, pTerms = scratch.RowTerms, pColumnTerms = packed.ColumnTerms, pTile = scratch.Tile)
        {
            for (int j0 = 0; j0 < packed.Count; j0 += blockColumns)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int columns = Math.Min(blockColumns, packed.Count - j0);
                int bPanels = (columns + panelWidth - 1) / panelWidth;
                var epilogue = new DistanceEpilogue
                {
                    RowTerms = pTerms,
                    ColumnTerms = pColumnTerms + j0,
                    DotScale = form.DotScale,
                    ClampAtZero = form.ClampAtZero,
                };
                GemmKernel.ComputeBlock(packed.Width, pa, aPanels, pb + ((long)j0 * d), bPanels, d, kcMax, pTile, blockColumns, &epilogue);

                ReadOnlySpan<long> blockIds = baseIds.Slice(j0, columns);
                for (int q = 0; q < queryCount; q++)
                {
                    var row = new ReadOnlySpan<float>(pTile + ((long)q * blockColumns), columns);
                    long excluded = excludedIds.IsEmpty ? -1 : excludedIds[q];
                    TopK.PushRow(row, blockIds, excluded, scratch.HeapDistances.AsSpan(q * k, k), scratch.HeapIds.AsSpan(q * k, k), ref counts[q], packed.Width);
                }
            }
        }

        for (int q = 0; q < queryCount; q++)
        {
            TopK.Drain(scratch.HeapDistances.AsSpan(q * k, k), scratch.HeapIds.AsSpan(q * k, k), ref counts[q], outDistances.Slice(q * k, k), outIds.Slice(q * k, k));
        }
    }
}
