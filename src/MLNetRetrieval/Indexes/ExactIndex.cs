using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// Exact (brute-force) k-nearest-neighbor index over float32 vectors, the reference that approximate
/// indexes are measured against. Search computes every query-to-vector distance with a blocked GEMM
/// (‖x‖² + ‖y‖² − 2x·y for squared Euclidean) and keeps the k best per query.
/// </summary>
/// <remarks>
/// <para>Distances are "smaller is closer" for every metric: squared Euclidean returns ‖x − y‖²,
/// cosine returns 1 − cos(x, y), inner product returns −x·y. Results are best first, ties go to the lower
/// id, and they do not depend on the thread count.</para>
/// <para>Searches may run concurrently with each other but not with <c>Add</c>.</para>
/// <para>The first search after an <c>Add</c> packs the stored vectors into a GEMM layout, which keeps a
/// second copy of the data in memory (4 bytes per value).</para>
/// </remarks>
public sealed partial class ExactIndex
{
    /// <summary>Largest number of queries one worker handles between progress reports.</summary>
    private const int MaxQueryBlock = 256;

    private readonly object _packLock = new();
    private readonly Dictionary<long, int> _rowById = new();
    private float[] _vectors = Array.Empty<float>();
    private long[] _ids = Array.Empty<long>();
    private PackedBase? _packed;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Length of every vector, in [1, 1048576].</param>
    /// <param name="metric">Distance that searches rank by.</param>
    public ExactIndex(int dimension, DistanceMetric metric)
    {
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension must be in [1, {VectorChecks.MaxDimension}].");
        }

        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Metric must be SquaredEuclidean, InnerProduct or Cosine.");
        }

        Dimension = dimension;
        Metric = metric;
    }

    /// <summary>Length of every vector.</summary>
    public int Dimension { get; }

    /// <summary>Distance that searches rank by.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>Number of stored vectors.</summary>
    public int Count { get; private set; }

    /// <summary>Register width of the search kernels; tests set a narrower one to cover every code path.</summary>
    internal VectorWidth Width { get; set; } = VectorWidths.Best;

    /// <summary>k block of the GEMM; tests set a small one to cover k blocking.</summary>
    internal int KcMax { get; set; } = GemmKernel.DefaultKc;

    /// <summary>Adds vectors with the ids Count, Count + 1, … in row order.</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the length is not a multiple of the dimension, a
    /// generated id is already taken, or (cosine) a row is zero.</exception>
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

    /// <summary>Adds vectors with the given ids. Nothing is added when any check fails.</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="ids">One id per row, each ≥ 0 and not yet in the index.</param>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the lengths do not match, an id is negative or
    /// duplicated, or (cosine) a row is zero.</exception>
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        if (ids.Length != n)
        {
            throw new ArgumentException($"Expected one id per row ({n} rows), got {ids.Length} ids.", nameof(ids));
        }

        if ((long)Count + n > Array.MaxLength / Dimension)
        {
            throw new ArgumentException($"Adding {n} rows to {Count} would exceed the maximum of {Array.MaxLength / Dimension} vectors of dimension {Dimension}.", nameof(vectors));
        }

        VectorChecks.EnsureFinite(vectors, Dimension, nameof(vectors));
        IdChecks.CheckNewIds(ids, _rowById, Count, nameof(ids));

        int start = Count;
        int total = checked(start + n);
        EnsureCapacity(total);
        Span<float> target = _vectors.AsSpan(start * Dimension, n * Dimension);
        if (Metric == DistanceMetric.Cosine)
        {
            VectorChecks.Normalize(vectors, Dimension, target, nameof(vectors));
        }
        else
        {
            vectors.CopyTo(target);
        }

        for (int i = 0; i < n; i++)
        {
            _ids[start + i] = ids[i];
            _rowById.Add(ids[i], start + i);
        }

        Count = total;
        _packed = null;
    }

    /// <summary>Finds the row that stores <paramref name="id"/>.</summary>
    public bool TryGetRow(long id, out int row) => _rowById.TryGetValue(id, out row);

    /// <summary>Returns the id of <paramref name="row"/>.</summary>
    public long GetId(int row)
    {
        CheckRow(row);
        return _ids[row];
    }

    /// <summary>Returns the stored vector of <paramref name="row"/>; under cosine it is the unit-length copy.</summary>
    public ReadOnlySpan<float> GetVector(int row)
    {
        CheckRow(row);
        return _vectors.AsSpan(row * Dimension, Dimension);
    }

    /// <summary>
    /// Finds the <paramref name="k"/> nearest stored vectors of each query.
    /// </summary>
    /// <param name="queries">Row-major queries, size nq × <see cref="Dimension"/>.</param>
    /// <param name="k">Neighbors per query, ≥ 1. Slots beyond <see cref="Count"/> get id −1 and distance +∞.</param>
    /// <param name="ids">Output ids, size nq × k, best first per query.</param>
    /// <param name="distances">Output distances, size nq × k, "smaller is closer" (see <see cref="DistanceMetric"/>).</param>
    /// <param name="parameters">Threads, excluded ids, cancellation and progress; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Shapes do not match, a query value is NaN or infinite, or (cosine) a query is zero.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchParameters? parameters = null)
    {
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
        float[] prepared = PrepareQueries(queries, nq);
        float[] rowTerms = QueryTerms(prepared, nq);
        parameters.CancellationToken.ThrowIfCancellationRequested();

        PackedBase packed = GetPacked();
        var job = new SearchJob(this, packed, prepared, rowTerms, nq, k, parameters);
        job.Run(ids, distances);
    }

    private float[] PrepareQueries(ReadOnlySpan<float> queries, int nq)
    {
        var prepared = new float[queries.Length];
        if (Metric == DistanceMetric.Cosine)
        {
            VectorChecks.Normalize(queries, Dimension, prepared, nameof(queries));
        }
        else
        {
            queries.CopyTo(prepared);
        }

        return prepared;
    }

    private float[] QueryTerms(float[] queries, int nq)
    {
        var terms = new float[nq];
        for (int q = 0; q < nq; q++)
        {
            terms[q] = Metric switch
            {
                DistanceMetric.SquaredEuclidean => GemmKernel.SquaredNormChain(queries.AsSpan(q * Dimension, Dimension)),
                DistanceMetric.Cosine => 1f,
                _ => 0f,
            };
        }

        return terms;
    }

    private DistanceForm Form => Metric switch
    {
        DistanceMetric.SquaredEuclidean => new DistanceForm(-2f, ClampAtZero: true),
        DistanceMetric.Cosine => new DistanceForm(-1f, ClampAtZero: true),
        _ => new DistanceForm(-1f, ClampAtZero: false),
    };

    private PackedBase GetPacked()
    {
        PackedBase? packed = _packed;
        if (packed is not null && packed.Width == Width && packed.Count == Count)
        {
            return packed;
        }

        lock (_packLock)
        {
            packed = _packed;
            if (packed is null || packed.Width != Width || packed.Count != Count)
            {
                packed = PackedBase.Create(_vectors.AsSpan(0, Count * Dimension), Count, Dimension, Metric == DistanceMetric.SquaredEuclidean, Width);
                _packed = packed;
            }

            return packed;
        }
    }

    private void EnsureCapacity(int rows)
    {
        if (_ids.Length >= rows)
        {
            return;
        }

        int capacity = Math.Max(rows, (int)Math.Min(Array.MaxLength / Dimension, Math.Max(16L, _ids.Length * 2L)));
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _vectors, checked(capacity * Dimension));
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {Count - 1}].");
        }
    }
}
