using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Distances from one query to rows packed in GEMM panels (layout (panels, d, panelWidth), see
/// <see cref="GemmKernel.PackPanels"/>): <c>out[j] = FMA(dotScale, q·y_j, rowTerm + columnTerms[j])</c>, then
/// <c>max(out, 0)</c> when clamping.
/// </summary>
/// <remarks>
/// A GEMM tile has <see cref="GemmKernel.TileRows"/> query rows, so one query would waste seven eighths of its
/// multiply-adds; this kernel broadcasts the single query value instead and streams the panels, which keeps it
/// bound by memory bandwidth. Each output is one fused multiply-add chain in k order followed by the GEMM
/// epilogue's arithmetic, so it is bit-identical to the matching element of a <see cref="GemmKernel"/> tile and
/// to <see cref="DistancesScalar"/>, at every width.
/// </remarks>
internal static unsafe class SingleQueryKernel
{
    /// <summary>
    /// Writes <c>panelCount × PanelWidth(width)</c> values into <paramref name="output"/>, one per packed row
    /// including the zero padding rows, which the caller ignores.
    /// </summary>
    /// <param name="width">Register width the panels were packed for.</param>
    /// <param name="query">The query, d floats.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="rowTerm">Query term of the epilogue (‖q‖² for squared L2).</param>
    /// <param name="panels">Packed rows, layout (panelCount, d, panelWidth).</param>
    /// <param name="panelCount">Number of panels.</param>
    /// <param name="columnTerms">One term per packed row (‖y‖² for squared L2), panelCount × panelWidth floats.</param>
    /// <param name="dotScale">Factor on the dot product, −2 for squared L2.</param>
    /// <param name="clampAtZero">Whether to replace negative rounding residue with 0.</param>
    /// <param name="output">Output, panelCount × panelWidth floats.</param>
    public static void Distances(VectorWidth width, float* query, int d, float rowTerm, float* panels, int panelCount, float* columnTerms, float dotScale, bool clampAtZero, float* output)
    {
        switch (width)
        {
            case VectorWidth.Vector512:
                Distances<Vector512<float>, Vector512Ops>(query, d, rowTerm, panels, panelCount, columnTerms, dotScale, clampAtZero, output);
                break;
            case VectorWidth.Vector256:
                Distances<Vector256<float>, Vector256Ops>(query, d, rowTerm, panels, panelCount, columnTerms, dotScale, clampAtZero, output);
                break;
            case VectorWidth.Vector128:
                Distances<Vector128<float>, Vector128Ops>(query, d, rowTerm, panels, panelCount, columnTerms, dotScale, clampAtZero, output);
                break;
            default:
                Distances<float, ScalarOps>(query, d, rowTerm, panels, panelCount, columnTerms, dotScale, clampAtZero, output);
                break;
        }
    }

    /// <summary>
    /// Scalar twin of <see cref="Distances"/> over row-major <paramref name="rows"/> (count × d): one fused
    /// multiply-add chain per row, then the same epilogue.
    /// </summary>
    public static void DistancesScalar(ReadOnlySpan<float> query, float rowTerm, ReadOnlySpan<float> rows, int count, ReadOnlySpan<float> columnTerms, float dotScale, bool clampAtZero, Span<float> output)
    {
        int d = query.Length;
        for (int j = 0; j < count; j++)
        {
            float dot = 0f;
            for (int p = 0; p < d; p++)
            {
                dot = MathF.FusedMultiplyAdd(query[p], rows[(j * d) + p], dot);
            }

            float value = MathF.FusedMultiplyAdd(dotScale, dot, rowTerm + columnTerms[j]);
            output[j] = clampAtZero ? MathF.Max(value, 0f) : value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Distances<TVec, TOps>(float* query, int d, float rowTerm, float* panels, int panelCount, float* columnTerms, float dotScale, bool clampAtZero, float* output)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        int lanes = TOps.Count;
        int panelWidth = GemmKernel.TileRegisters * lanes;
        long panelLength = (long)d * panelWidth;
        int panel = 0;

        // Four panels per pass give eight independent chains, enough to cover the multiply-add latency on two pipes.
        for (; panel + 3 < panelCount; panel += 4)
        {
            float* b0 = panels + (panel * panelLength);
            float* b1 = b0 + panelLength;
            float* b2 = b1 + panelLength;
            float* b3 = b2 + panelLength;
            TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
            TVec c4 = TOps.Zero, c5 = TOps.Zero, c6 = TOps.Zero, c7 = TOps.Zero;
            for (int p = 0; p < d; p++)
            {
                TVec q = TOps.Broadcast(query[p]);
                long offset = (long)p * panelWidth;
                c0 = TOps.MultiplyAdd(q, TOps.Load(b0 + offset), c0);
                c1 = TOps.MultiplyAdd(q, TOps.Load(b0 + offset + lanes), c1);
                c2 = TOps.MultiplyAdd(q, TOps.Load(b1 + offset), c2);
                c3 = TOps.MultiplyAdd(q, TOps.Load(b1 + offset + lanes), c3);
                c4 = TOps.MultiplyAdd(q, TOps.Load(b2 + offset), c4);
                c5 = TOps.MultiplyAdd(q, TOps.Load(b2 + offset + lanes), c5);
                c6 = TOps.MultiplyAdd(q, TOps.Load(b3 + offset), c6);
                c7 = TOps.MultiplyAdd(q, TOps.Load(b3 + offset + lanes), c7);
            }

            int column = panel * panelWidth;
            Finish<TVec, TOps>(c0, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c1, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
            column += panelWidth;
            Finish<TVec, TOps>(c2, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c3, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
            column += panelWidth;
            Finish<TVec, TOps>(c4, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c5, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
            column += panelWidth;
            Finish<TVec, TOps>(c6, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c7, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
        }

        for (; panel + 1 < panelCount; panel += 2)
        {
            float* b0 = panels + (panel * panelLength);
            float* b1 = b0 + panelLength;
            TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
            for (int p = 0; p < d; p++)
            {
                TVec q = TOps.Broadcast(query[p]);
                long offset = (long)p * panelWidth;
                c0 = TOps.MultiplyAdd(q, TOps.Load(b0 + offset), c0);
                c1 = TOps.MultiplyAdd(q, TOps.Load(b0 + offset + lanes), c1);
                c2 = TOps.MultiplyAdd(q, TOps.Load(b1 + offset), c2);
                c3 = TOps.MultiplyAdd(q, TOps.Load(b1 + offset + lanes), c3);
            }

            int column = panel * panelWidth;
            Finish<TVec, TOps>(c0, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c1, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
            column += panelWidth;
            Finish<TVec, TOps>(c2, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c3, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
        }

        for (; panel < panelCount; panel++)
        {
            float* b0 = panels + (panel * panelLength);
            TVec c0 = TOps.Zero;
            TVec c1 = TOps.Zero;
            for (int p = 0; p < d; p++)
            {
                TVec q = TOps.Broadcast(query[p]);
                long offset = (long)p * panelWidth;
                c0 = TOps.MultiplyAdd(q, TOps.Load(b0 + offset), c0);
                c1 = TOps.MultiplyAdd(q, TOps.Load(b0 + offset + lanes), c1);
            }

            int column = panel * panelWidth;
            Finish<TVec, TOps>(c0, rowTerm, columnTerms + column, dotScale, clampAtZero, output + column);
            Finish<TVec, TOps>(c1, rowTerm, columnTerms + column + lanes, dotScale, clampAtZero, output + column + lanes);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TVec, TOps>(TVec dot, float rowTerm, float* columnTerms, float dotScale, bool clampAtZero, float* output)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        TVec value = TOps.MultiplyAdd(TOps.Broadcast(dotScale), dot, TOps.Add(TOps.Broadcast(rowTerm), TOps.Load(columnTerms)));
        if (clampAtZero)
        {
            value = TOps.Max(value, TOps.Zero);
        }

        TOps.Store(value, output);
    }
}
