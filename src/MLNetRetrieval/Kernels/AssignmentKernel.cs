namespace MLNetRetrieval.Kernels;

/// <summary>Per-thread buffers of <see cref="AssignmentKernel"/>, reused across point blocks.</summary>
internal sealed class AssignmentScratch
{
    public AssignmentScratch(int maxPoints, int dimension, int blockColumns)
    {
        int rows = checked((maxPoints + GemmKernel.TileRows - 1) / GemmKernel.TileRows * GemmKernel.TileRows);
        PackedPoints = new float[checked(rows * dimension)];
        RowTerms = new float[rows];
        Tile = new float[checked(rows * blockColumns)];
        MaxPoints = maxPoints;
        BlockColumns = blockColumns;
    }

    public int MaxPoints { get; }

    public int BlockColumns { get; }

    public float[] PackedPoints { get; }

    public float[] RowTerms { get; }

    public float[] Tile { get; }
}

/// <summary>
/// Nearest-centroid assignment for one block of points: GEMM tiles with the ‖x‖² + ‖c‖² − 2x·c epilogue
/// (clamped at 0), then a running minimum over each tile row. Ties go to the lower centroid index because
/// centroid blocks are visited in order and only a strictly smaller distance replaces the current one.
/// </summary>
/// <remarks>
/// Each distance is one fused multiply-add chain (see <see cref="GemmKernel"/>), so the result for a point
/// does not depend on the block it lands in, the vector width or the thread count.
/// </remarks>
internal static unsafe class AssignmentKernel
{
    /// <summary>Returns the number of centroid columns per GEMM block for <paramref name="centroids"/>.</summary>
    public static int BlockColumns(PackedBase centroids) =>
        GemmKernel.BlockColumns(centroids.Dimension, GemmKernel.DefaultKc, centroids.PanelWidth);

    /// <summary>
    /// Writes, for each of the <paramref name="count"/> row-major <paramref name="points"/>, the index of the
    /// nearest centroid into <paramref name="assignments"/> and the squared distance to it into
    /// <paramref name="squaredDistances"/>. <paramref name="centroids"/> must be packed with squared-norm terms.
    /// <paramref name="cancellationToken"/> is polled once per block of centroids.
    /// </summary>
    public static void AssignBlock(
        PackedBase centroids,
        ReadOnlySpan<float> points,
        int count,
        Span<int> assignments,
        Span<float> squaredDistances,
        AssignmentScratch scratch,
        CancellationToken cancellationToken)
    {
        int d = centroids.Dimension;
        int k = centroids.Count;
        int panelWidth = centroids.PanelWidth;
        int blockColumns = scratch.BlockColumns;
        int aPanels = (count + GemmKernel.TileRows - 1) / GemmKernel.TileRows;

        GemmKernel.PackPanels(points, count, d, GemmKernel.TileRows, scratch.PackedPoints);
        Span<float> terms = scratch.RowTerms;
        terms.Clear();
        for (int i = 0; i < count; i++)
        {
            terms[i] = GemmKernel.SquaredNormChain(points.Slice(i * d, d));
        }

        assignments.Slice(0, count).Fill(-1);
        squaredDistances.Slice(0, count).Fill(float.PositiveInfinity);
        fixed (float* pa = scratch.PackedPoints, pb = centroids.Panels, pTerms = scratch.RowTerms, pColumnTerms = centroids.ColumnTerms, pTile = scratch.Tile)
        {
            for (int j0 = 0; j0 < k; j0 += blockColumns)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int columns = Math.Min(blockColumns, k - j0);
                int bPanels = (columns + panelWidth - 1) / panelWidth;
                var epilogue = new DistanceEpilogue
                {
                    RowTerms = pTerms,
                    ColumnTerms = pColumnTerms + j0,
                    DotScale = -2f,
                    ClampAtZero = true,
                };
                GemmKernel.ComputeBlock(centroids.Width, pa, aPanels, pb + ((long)j0 * d), bPanels, d, GemmKernel.DefaultKc, pTile, blockColumns, &epilogue);

                for (int i = 0; i < count; i++)
                {
                    float* row = pTile + ((long)i * blockColumns);
                    float best = squaredDistances[i];
                    int bestIndex = assignments[i];
                    for (int j = 0; j < columns; j++)
                    {
                        if (row[j] < best)
                        {
                            best = row[j];
                            bestIndex = j0 + j;
                        }
                    }

                    squaredDistances[i] = best;
                    assignments[i] = bestIndex;
                }
            }
        }

        // Distances overflow to +∞ only for values near float.MaxValue; such a point goes to centroid 0.
        for (int i = 0; i < count; i++)
        {
            if (assignments[i] < 0)
            {
                assignments[i] = 0;
            }
        }
    }

    /// <summary>
    /// Scalar twin of <see cref="AssignBlock"/> over row-major <paramref name="centroids"/> (k × d): the same
    /// fused multiply-add chains and the same tie rule, one point and one centroid at a time.
    /// </summary>
    public static void AssignScalar(ReadOnlySpan<float> centroids, int k, int d, ReadOnlySpan<float> points, int count, Span<int> assignments, Span<float> squaredDistances)
    {
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> x = points.Slice(i * d, d);
            float xx = GemmKernel.SquaredNormChain(x);
            float best = float.PositiveInfinity;
            int bestIndex = -1;
            for (int j = 0; j < k; j++)
            {
                ReadOnlySpan<float> c = centroids.Slice(j * d, d);
                float dot = 0f;
                for (int p = 0; p < d; p++)
                {
                    dot = MathF.FusedMultiplyAdd(x[p], c[p], dot);
                }

                float distance = MathF.Max(MathF.FusedMultiplyAdd(-2f, dot, xx + GemmKernel.SquaredNormChain(c)), 0f);
                if (distance < best)
                {
                    best = distance;
                    bestIndex = j;
                }
            }

            assignments[i] = Math.Max(bestIndex, 0);
            squaredDistances[i] = best;
        }
    }
}
