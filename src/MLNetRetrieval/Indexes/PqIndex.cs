using System.Numerics;
using System.Runtime.Intrinsics;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// Exhaustive k-nearest-neighbor index over product-quantization codes (FAISS <c>IndexPQ</c>): every stored
/// vector is kept only as its M-byte code, and a search scores all codes by asymmetric distance (ADC), the
/// squared Euclidean distance from the exact query to each decoded vector.
/// </summary>
/// <remarks>
/// <para>Distances are squared Euclidean and approximate: they are exact distances to the decoded vectors,
/// not to the vectors that were added. Results are best first, ties go to the lower id, and they do not
/// depend on the thread count.</para>
/// <para>Searches score one register's worth of queries at a time (16 with AVX-512, 8 with AVX2): their
/// distance tables are interleaved so that one vector load per code byte serves all of them.</para>
/// <para>Searches may run concurrently with each other but not with <c>Train</c> or <c>Add</c>.</para>
/// </remarks>
public sealed partial class PqIndex
{
    /// <summary>Codes scored per tile before the top-k pass.</summary>
    private const int CodeBlock = 1024;

    private readonly Dictionary<long, int> _rowById = new();
    private byte[] _codes = Array.Empty<byte>();
    private long[] _ids = Array.Empty<long>();

    /// <summary>Creates an empty, untrained index.</summary>
    /// <param name="dimension">Length d of every vector, in [1, 1048576], a multiple of <paramref name="numberOfSubquantizers"/>.</param>
    /// <param name="numberOfSubquantizers">Number of subspaces M; each vector is stored in M bytes.</param>
    /// <param name="bitsPerSubquantizer">Bits per sub-code; only 8 is supported.</param>
    /// <exception cref="ArgumentException">A value is out of range or d is not a multiple of M.</exception>
    public PqIndex(int dimension, int numberOfSubquantizers, int bitsPerSubquantizer = 8)
        : this(new ProductQuantizer(dimension, numberOfSubquantizers, bitsPerSubquantizer))
    {
    }

    private PqIndex(ProductQuantizer quantizer)
    {
        Quantizer = quantizer;
    }

    /// <summary>The product quantizer that encodes the vectors.</summary>
    public ProductQuantizer Quantizer { get; }

    /// <summary>Length of every vector.</summary>
    public int Dimension => Quantizer.Dimension;

    /// <summary>Whether the quantizer is trained, which <c>Add</c> and <c>Search</c> require.</summary>
    public bool IsTrained => Quantizer.IsTrained;

    /// <summary>Number of stored vectors.</summary>
    public int Count { get; private set; }

    /// <summary>Register width of the search kernels; tests set a narrower one to cover every code path.</summary>
    internal VectorWidth Width { get; set; } = VectorWidths.Best;

    /// <summary>Trains the quantizer's codebooks on <paramref name="vectors"/>; see <see cref="ProductQuantizer.Train"/>.</summary>
    /// <param name="vectors">Training vectors, row-major, size n × <see cref="Dimension"/>, n ≥ 256.</param>
    /// <param name="options">k-means settings; null uses the defaults.</param>
    /// <exception cref="InvalidOperationException">The index already contains vectors, whose codes would become invalid.</exception>
    /// <exception cref="ArgumentException">See <see cref="ProductQuantizer.Train"/>.</exception>
    public void Train(ReadOnlySpan<float> vectors, KMeansOptions? options = null)
    {
        if (Count > 0)
        {
            throw new InvalidOperationException($"The index contains {Count} encoded vectors, so it cannot be retrained; create a new index.");
        }

        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        Quantizer.Width = Width;
        Quantizer.Train(vectors, n, options);
    }

    /// <summary>Encodes and adds vectors with the ids Count, Count + 1, … in row order.</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the length is not a multiple of the dimension, or a generated id is already taken.</exception>
    public void Add(ReadOnlySpan<float> vectors)
    {
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        var ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = (long)Count + i;
        }

        Add(vectors, ids);
    }

    /// <summary>Encodes and adds vectors with the given ids. Nothing is added when any check fails.</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="ids">One id per row, each ≥ 0 and not yet in the index.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the lengths do not match, or an id is negative or duplicated.</exception>
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        EnsureTrained();
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        if (ids.Length != n)
        {
            throw new ArgumentException($"Expected one id per row ({n} rows), got {ids.Length} ids.", nameof(ids));
        }

        int codeSize = Quantizer.CodeSize;
        if ((long)Count + n > Array.MaxLength / codeSize)
        {
            throw new ArgumentException($"Adding {n} rows to {Count} would exceed the maximum of {Array.MaxLength / codeSize} codes of {codeSize} bytes.", nameof(vectors));
        }

        VectorChecks.EnsureFinite(vectors, Dimension, nameof(vectors));
        IdChecks.CheckNewIds(ids, _rowById, Count, nameof(ids));
        var codes = new byte[checked(n * codeSize)];
        Quantizer.Width = Width;
        Quantizer.Encode(vectors, n, codes);

        int start = Count;
        int total = checked(start + n);
        EnsureCapacity(total);
        codes.CopyTo(_codes.AsSpan(start * codeSize));
        for (int i = 0; i < n; i++)
        {
            _ids[start + i] = ids[i];
            _rowById.Add(ids[i], start + i);
        }

        Count = total;
    }

    /// <summary>Finds the row that stores <paramref name="id"/>.</summary>
    public bool TryGetRow(long id, out int row) => _rowById.TryGetValue(id, out row);

    /// <summary>Returns the id of <paramref name="row"/>.</summary>
    public long GetId(int row)
    {
        CheckRow(row);
        return _ids[row];
    }

    /// <summary>Returns the code of <paramref name="row"/>, <see cref="ProductQuantizer.CodeSize"/> bytes.</summary>
    public ReadOnlySpan<byte> GetCode(int row)
    {
        CheckRow(row);
        return _codes.AsSpan(row * Quantizer.CodeSize, Quantizer.CodeSize);
    }

    /// <summary>Finds the <paramref name="k"/> stored codes nearest to each query by asymmetric distance.</summary>
    /// <param name="queries">Row-major queries, size nq × <see cref="Dimension"/>.</param>
    /// <param name="k">Neighbors per query, ≥ 1. Slots beyond <see cref="Count"/> get id −1 and distance +∞.</param>
    /// <param name="ids">Output ids, size nq × k, best first per query.</param>
    /// <param name="distances">Output squared distances to the decoded vectors, size nq × k.</param>
    /// <param name="parameters">Threads, excluded ids, cancellation and progress; null uses the defaults.
    /// Cancellation is polled before every block of 1024 codes.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">Shapes do not match or a query value is NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchParameters? parameters = null)
    {
        EnsureTrained();
        parameters ??= new SearchParameters();
        int nq = VectorChecks.RowCount(queries, Dimension, nameof(queries));
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        }

        long resultLength = (long)nq * k;
        if (ids.Length != resultLength || distances.Length != resultLength)
        {
            throw new ArgumentException($"Expected result buffers of queries × k = {nq} × {k} = {resultLength} elements, got {ids.Length} ids and {distances.Length} distances.", nameof(ids));
        }

        if (parameters.Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.Threads, "SearchParameters.Threads must be 0 (all cores) or positive.");
        }

        ReadOnlySpan<long> excluded = parameters.ExcludedIds.Span;
        if (!excluded.IsEmpty && excluded.Length != nq)
        {
            throw new ArgumentException($"SearchParameters.ExcludedIds must be empty or hold one id per query ({nq}), got {excluded.Length}.", nameof(parameters));
        }

        VectorChecks.EnsureFinite(queries, Dimension, nameof(queries));
        parameters.CancellationToken.ThrowIfCancellationRequested();
        Quantizer.Width = Width;
        var job = new SearchJob(this, queries.ToArray(), nq, k, parameters);
        job.Run();
        job.ResultIds.CopyTo(ids);
        job.ResultDistances.CopyTo(distances);
    }

    private void EnsureTrained()
    {
        if (!IsTrained)
        {
            throw new InvalidOperationException("The PQ index is not trained; call Train with representative vectors first.");
        }
    }

    private void EnsureCapacity(int rows)
    {
        if (_ids.Length >= rows)
        {
            return;
        }

        int codeSize = Quantizer.CodeSize;
        int capacity = Math.Max(rows, (int)Math.Min(Array.MaxLength / codeSize, Math.Max(16L, _ids.Length * 2L)));
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _codes, checked(capacity * codeSize));
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {Count - 1}].");
        }
    }

    /// <summary>One search call split into groups of one register's worth of queries that worker threads take in turn.</summary>
    private sealed unsafe class SearchJob
    {
        private readonly PqIndex _index;
        private readonly float[] _queries;
        private readonly int _queryCount;
        private readonly int _k;
        private readonly SearchParameters _parameters;
        private readonly int _lanes;
        private int _queriesDone;

        public SearchJob(PqIndex index, float[] queries, int queryCount, int k, SearchParameters parameters)
        {
            _index = index;
            _queries = queries;
            _queryCount = queryCount;
            _k = k;
            _parameters = parameters;
            _lanes = index.Width switch
            {
                VectorWidth.Vector512 => Vector512<float>.Count,
                VectorWidth.Vector256 => Vector256<float>.Count,
                VectorWidth.Vector128 => Vector128<float>.Count,
                _ => 1,
            };
            ResultIds = new long[(long)queryCount * k];
            ResultDistances = new float[(long)queryCount * k];
        }

        public long[] ResultIds { get; }

        public float[] ResultDistances { get; }

        public void Run()
        {
            int groups = (_queryCount + _lanes - 1) / _lanes;
            int threads = _parameters.Threads == 0 ? Environment.ProcessorCount : _parameters.Threads;
            ParallelBlocks.Run(groups, threads, CreateScratch, SearchGroup, _parameters.CancellationToken);
        }

        private Scratch CreateScratch()
        {
            int entries = _index.Quantizer.NumberOfSubquantizers * _index.Quantizer.CentroidsPerSubquantizer;
            return new Scratch(entries, _lanes, _k);
        }

        private void SearchGroup(int group, Scratch scratch)
        {
            ProductQuantizer pq = _index.Quantizer;
            int first = group * _lanes;
            int queries = Math.Min(_lanes, _queryCount - first);
            int entries = scratch.Tables.Length / _lanes;
            int d = pq.Dimension;
            for (int q = 0; q < queries; q++)
            {
                pq.ComputeDistanceTable(_queries.AsSpan((first + q) * d, d), scratch.Tables.AsSpan(q * entries, entries));
            }

            PqKernels.Interleave(scratch.Tables, queries, pq.NumberOfSubquantizers, _lanes, scratch.Interleaved);
            ReadOnlySpan<long> excludedAll = _parameters.ExcludedIds.Span;
            Span<long> excluded = stackalloc long[_lanes];
            excluded.Fill(-1);
            for (int q = 0; q < queries; q++)
            {
                excluded[q] = excludedAll.IsEmpty ? -1 : excludedAll[first + q];
            }

            Array.Clear(scratch.Counts);
            int m = pq.NumberOfSubquantizers;
            int count = _index.Count;
            fixed (byte* pCodes = _index._codes)
            fixed (float* pTables = scratch.Interleaved, pTile = scratch.Tile)
            {
                for (int start = 0; start < count; start += CodeBlock)
                {
                    _parameters.CancellationToken.ThrowIfCancellationRequested();
                    int rows = Math.Min(CodeBlock, count - start);
                    byte* codes = pCodes + ((long)start * m);
                    switch (_index.Width)
                    {
                        case VectorWidth.Vector512:
                            PqKernels.ScanInterleaved<Vector512<float>, Vector512Ops>(codes, rows, m, pTables, pTile);
                            PushTile<Vector512<float>, Vector512Ops>(scratch, pTile, rows, start, queries, excluded);
                            break;
                        case VectorWidth.Vector256:
                            PqKernels.ScanInterleaved<Vector256<float>, Vector256Ops>(codes, rows, m, pTables, pTile);
                            PushTile<Vector256<float>, Vector256Ops>(scratch, pTile, rows, start, queries, excluded);
                            break;
                        case VectorWidth.Vector128:
                            PqKernels.ScanInterleaved<Vector128<float>, Vector128Ops>(codes, rows, m, pTables, pTile);
                            PushTile<Vector128<float>, Vector128Ops>(scratch, pTile, rows, start, queries, excluded);
                            break;
                        default:
                            PqKernels.ScanCodesScalar(new ReadOnlySpan<byte>(codes, rows * m), rows, m, scratch.Tables.AsSpan(0, entries), scratch.Tile);
                            PushTile<float, ScalarOps>(scratch, pTile, rows, start, queries, excluded);
                            break;
                    }
                }
            }

            for (int q = 0; q < queries; q++)
            {
                int result = (first + q) * _k;
                TopK.Drain(scratch.HeapDistances.AsSpan(q * _k, _k), scratch.HeapIds.AsSpan(q * _k, _k), ref scratch.Counts[q], ResultDistances.AsSpan(result, _k), ResultIds.AsSpan(result, _k));
            }

            int done = Interlocked.Add(ref _queriesDone, queries);
            _parameters.Progress?.Report(new SearchProgress(done, _queryCount));
        }

        /// <summary>
        /// Offers the tile's distances (layout (rows, lanes)) to each lane's heap. A whole row is compared with the
        /// lanes' current thresholds first, so the heaps are touched only for candidates that can enter them.
        /// </summary>
        private void PushTile<TVec, TOps>(Scratch scratch, float* tile, int rows, int start, int queries, ReadOnlySpan<long> excluded)
            where TVec : struct
            where TOps : ISimdOps<TVec>
        {
            int lanes = TOps.Count;
            ulong valid = lanes == 64 ? ulong.MaxValue : (1UL << queries) - 1;
            fixed (float* pThresholds = scratch.Thresholds)
            {
                for (int q = 0; q < lanes; q++)
                {
                    pThresholds[q] = q < queries ? TopK.Threshold(scratch.HeapDistances.AsSpan(q * _k, _k), scratch.Counts[q]) : float.NegativeInfinity;
                }

                TVec limit = TOps.Load(pThresholds);
                long[] ids = _index._ids;
                for (int r = 0; r < rows; r++)
                {
                    float* row = tile + ((long)r * lanes);
                    ulong mask = TOps.LessThanOrEqualMask(TOps.Load(row), limit) & valid;
                    if (mask == 0)
                    {
                        continue;
                    }

                    long id = ids[start + r];
                    do
                    {
                        int q = BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        if (id == excluded[q])
                        {
                            continue;
                        }

                        Span<float> heapDistances = scratch.HeapDistances.AsSpan(q * _k, _k);
                        TopK.Push(heapDistances, scratch.HeapIds.AsSpan(q * _k, _k), ref scratch.Counts[q], row[q], id);
                        pThresholds[q] = TopK.Threshold(heapDistances, scratch.Counts[q]);
                    }
                    while (mask != 0);

                    limit = TOps.Load(pThresholds);
                }
            }
        }
    }

    /// <summary>Per-thread buffers of one search: tables, tile of distances and one heap per lane.</summary>
    private sealed class Scratch
    {
        public Scratch(int entries, int lanes, int k)
        {
            Tables = new float[checked(entries * lanes)];
            Interleaved = new float[checked(entries * lanes)];
            Tile = new float[CodeBlock * lanes];
            Thresholds = new float[lanes];
            HeapDistances = new float[checked(lanes * k)];
            HeapIds = new long[checked(lanes * k)];
            Counts = new int[lanes];
        }

        /// <summary>Distance tables of the group's queries, one after another, each layout (M, ksub).</summary>
        public float[] Tables { get; }

        /// <summary>The same tables interleaved, layout (M, ksub, lanes).</summary>
        public float[] Interleaved { get; }

        /// <summary>ADC distances of one block of codes, layout (CodeBlock, lanes).</summary>
        public float[] Tile { get; }

        public float[] Thresholds { get; }

        public float[] HeapDistances { get; }

        public long[] HeapIds { get; }

        public int[] Counts { get; }
    }
}
