using System.Buffers;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// General single-precision matrix product C (+)= op(A)·op(B) on row-major buffers, where op is the
/// identity or the transpose, built on the packed register tile of <see cref="GemmKernel"/>.
/// </summary>
/// <remarks>
/// Shapes: op(A) is m × k and op(B) is k × n. A is stored m × k, or k × m when transposed; B is stored
/// k × n, or n × k when transposed; C is m × n. The training code of a dense layer Y = X·Wᵀ needs all
/// three forms: the forward pass is A·Bᵀ, the input gradient dY·W is A·B, and the weight gradient dYᵀ·X
/// is Aᵀ·B.
/// Both operands are packed once per call: op(A) into micro-panels of <see cref="GemmKernel.TileRows"/>
/// rows, layout (panels, k, TileRows), and op(B)ᵀ into panels of <see cref="GemmKernel.PanelWidth"/>
/// columns, layout (panels, k, panelWidth). The output is cut into tasks of whole A panels by whole B
/// panels that run in parallel. Each task computes its tile into scratch and then writes or adds it to C.
/// Every element of the product is one fused multiply-add chain in k order, whatever the width, the
/// blocking or the thread count, so results are bit-identical to <see cref="MultiplyScalar"/>.
/// The packed operands and the per-task scratch are rented from <see cref="ArrayPool{T}.Shared"/>, so
/// repeated calls of one shape allocate nothing after the first.
/// </remarks>
internal static unsafe class Sgemm
{
    /// <summary>Rows of C per parallel task: 8 micro-panels.</summary>
    private const int TaskRows = 8 * GemmKernel.TileRows;

    /// <summary>Below this many multiply-adds a call runs on the calling thread only.</summary>
    private const long ParallelThreshold = 1L << 18;

    /// <summary>Computes C = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/> is set.</summary>
    /// <param name="transposeA">Whether A is stored k × m and used transposed.</param>
    /// <param name="transposeB">Whether B is stored n × k and used transposed.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="a">A, size m·k.</param>
    /// <param name="b">B, size k·n.</param>
    /// <param name="c">C, size m·n, row-major.</param>
    /// <param name="accumulate">Whether to add the product to C instead of overwriting it.</param>
    /// <param name="threads">Maximum number of threads, at least 1.</param>
    /// <param name="width">Register width; production code passes <see cref="VectorWidths.Best"/>.</param>
    /// <param name="kcMax">Largest k block kept in cache, used by tests to force several k blocks.</param>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        bool accumulate, int threads, VectorWidth width, int kcMax = GemmKernel.DefaultKc)
    {
        VectorWidths.EnsureSupported(width);
        CheckShapes(m, n, k, a, b, c);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (m == 0 || n == 0)
        {
            return;
        }

        int panelWidth = GemmKernel.PanelWidth(width);
        int aPanels = (m + GemmKernel.TileRows - 1) / GemmKernel.TileRows;
        int bPanels = (n + panelWidth - 1) / panelWidth;
        int packedALength = checked(aPanels * GemmKernel.TileRows * k);
        int packedBLength = checked(bPanels * panelWidth * k);
        float[] packedA = ArrayPool<float>.Shared.Rent(packedALength);
        float[] packedB = ArrayPool<float>.Shared.Rent(packedBLength);
        try
        {
            fixed (float* pa = a, pb = b, pc = c, packA = packedA, packB = packedB)
            {
                // op(A)[i, p] sits at i·k + p, or at p·m + i when transposed.
                Pack(pa, m, k, transposeA ? 1 : k, transposeA ? m : 1, GemmKernel.TileRows, packA);

                // op(B)ᵀ[j, p] = op(B)[p, j] sits at p·n + j, or at j·k + p when transposed.
                Pack(pb, n, k, transposeB ? k : 1, transposeB ? 1 : n, panelWidth, packB);

                var plan = new Plan
                {
                    PackedA = packA,
                    PackedB = packB,
                    C = pc,
                    M = m,
                    N = n,
                    K = k,
                    KcMax = kcMax,
                    PanelWidth = panelWidth,
                    BlockColumns = BlockColumns(n, k, kcMax, panelWidth),
                    Accumulate = accumulate,
                    Width = width,
                };
                int rowTasks = (m + TaskRows - 1) / TaskRows;
                int columnTasks = (n + plan.BlockColumns - 1) / plan.BlockColumns;
                int tasks = rowTasks * columnTasks;
                long work = (long)m * n * k;
                if (threads == 1 || tasks == 1 || work < ParallelThreshold)
                {
                    for (int task = 0; task < tasks; task++)
                    {
                        RunTask(&plan, task % rowTasks, task / rowTasks);
                    }
                }
                else
                {
                    nint planAddress = (nint)(&plan);
                    Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads }, task =>
                        RunTask((Plan*)planAddress, task % rowTasks, task / rowTasks));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
        }
    }

    /// <summary>
    /// Scalar twin of <see cref="Multiply"/>: each element is one fused multiply-add chain in k order,
    /// then added to C when <paramref name="accumulate"/> is set.
    /// </summary>
    public static void MultiplyScalar(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
    {
        CheckShapes(m, n, k, a, b, c);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float x = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                    float y = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                    sum = MathF.FusedMultiplyAdd(x, y, sum);
                }

                c[(i * n) + j] = accumulate ? c[(i * n) + j] + sum : sum;
            }
        }
    }

    /// <summary>
    /// Packs <paramref name="rows"/> rows of depth <paramref name="depth"/>, element (r, p) read at
    /// <c>r · rowStride + p · depthStride</c>, into panels of <paramref name="panelWidth"/> rows,
    /// layout (panels, depth, panelWidth), with zero padding rows after the last row.
    /// </summary>
    private static void Pack(float* source, int rows, int depth, int rowStride, int depthStride, int panelWidth, float* destination)
    {
        int panels = (rows + panelWidth - 1) / panelWidth;
        for (int panel = 0; panel < panels; panel++)
        {
            float* target = destination + ((long)panel * depth * panelWidth);
            int first = panel * panelWidth;
            int valid = Math.Min(panelWidth, rows - first);
            if (valid < panelWidth)
            {
                new Span<float>(target, depth * panelWidth).Clear();
            }

            if (rowStride == 1)
            {
                // Rows are adjacent in memory: copy one run of `valid` floats per depth step.
                for (int p = 0; p < depth; p++)
                {
                    new ReadOnlySpan<float>(source + first + ((long)p * depthStride), valid).CopyTo(new Span<float>(target + ((long)p * panelWidth), valid));
                }
            }
            else
            {
                // Depth is adjacent in memory: read each row sequentially and scatter with stride panelWidth.
                for (int r = 0; r < valid; r++)
                {
                    float* row = source + ((long)(first + r) * rowStride);
                    for (int p = 0; p < depth; p++)
                    {
                        target[((long)p * panelWidth) + r] = row[(long)p * depthStride];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Returns the columns of C per task: whole panels, split evenly so that one block of packed B
    /// (columns × min(k, kcMax) floats) stays near 512 KiB, the L2 budget of <see cref="GemmKernel"/>.
    /// </summary>
    private static int BlockColumns(int n, int k, int kcMax, int panelWidth)
    {
        int largest = GemmKernel.BlockColumns(k, kcMax, panelWidth);
        int blocks = (n + largest - 1) / largest;
        int perBlock = (n + blocks - 1) / blocks;
        return (perBlock + panelWidth - 1) / panelWidth * panelWidth;
    }

    private static void RunTask(Plan* plan, int rowTask, int columnTask)
    {
        int i0 = rowTask * TaskRows;
        int j0 = columnTask * plan->BlockColumns;
        int rows = Math.Min(TaskRows, plan->M - i0);
        int columns = Math.Min(plan->BlockColumns, plan->N - j0);
        int aPanels = (rows + GemmKernel.TileRows - 1) / GemmKernel.TileRows;
        int bPanels = (columns + plan->PanelWidth - 1) / plan->PanelWidth;
        int ldc = bPanels * plan->PanelWidth;
        int scratchLength = aPanels * GemmKernel.TileRows * ldc;
        float[] scratch = ArrayPool<float>.Shared.Rent(scratchLength);
        try
        {
            fixed (float* tile = scratch)
            {
                GemmKernel.ComputeBlock(
                    plan->Width,
                    plan->PackedA + ((long)i0 * plan->K),
                    aPanels,
                    plan->PackedB + ((long)j0 * plan->K),
                    bPanels,
                    plan->K,
                    plan->KcMax,
                    tile,
                    ldc,
                    null);
                for (int r = 0; r < rows; r++)
                {
                    var source = new ReadOnlySpan<float>(tile + ((long)r * ldc), columns);
                    var target = new Span<float>(plan->C + ((long)(i0 + r) * plan->N) + j0, columns);
                    if (plan->Accumulate)
                    {
                        System.Numerics.Tensors.TensorPrimitives.Add(target, source, target);
                    }
                    else
                    {
                        source.CopyTo(target);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static void CheckShapes(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        if (m < 0 || n < 0 || k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"SGEMM shape must have m >= 0, n >= 0 and k >= 1, got m = {m}, n = {n}, k = {k}.");
        }

        long aLength = (long)m * k;
        long bLength = (long)k * n;
        long cLength = (long)m * n;
        if (a.Length != aLength || b.Length != bLength || c.Length != cLength)
        {
            throw new ArgumentException($"SGEMM buffers must hold m*k = {aLength}, k*n = {bLength} and m*n = {cLength} floats, got {a.Length}, {b.Length} and {c.Length}.", nameof(c));
        }
    }

    /// <summary>Shared, read-only state of one call, passed to tasks by address.</summary>
    private struct Plan
    {
        public float* PackedA;
        public float* PackedB;
        public float* C;
        public int M;
        public int N;
        public int K;
        public int KcMax;
        public int PanelWidth;
        public int BlockColumns;
        public bool Accumulate;
        public VectorWidth Width;
    }
}
