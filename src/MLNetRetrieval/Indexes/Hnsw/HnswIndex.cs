using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// Approximate k-nearest-neighbor index on a hierarchical navigable small world (HNSW) graph: every vector is a node
/// on layers 0 to l, with l drawn from an exponentially decaying distribution, and a query descends greedily through
/// the sparse upper layers before a beam search of width ef on layer 0, which contains every node.
/// </summary>
/// <remarks>
/// <para>The algorithm follows Yu. A. Malkov and D. A. Yashunin, "Efficient and robust approximate nearest neighbor
/// search using Hierarchical Navigable Small World graphs", IEEE Transactions on Pattern Analysis and Machine
/// Intelligence 42(4), 2020 (online 2018), arXiv:1603.09320: insertion (their Algorithm 1), the layer
/// search (Algorithm 2) and the neighbor selection heuristic (Algorithm 4), which keeps a candidate only when it is
/// closer to the base node than to every neighbor already kept. The flat link arrays, the per-node locks and the
/// filtered search, in which rejected nodes still route the beam, follow the design of the authors' hnswlib
/// library and of the FAISS <c>IndexHNSW</c>; the code is written from the paper.</para>
/// <para>Exact duplicates defeat the heuristic: a copy sees every other copy at distance 0 and prunes it, and
/// list pruning can then drop the last link into a node. So each node, at insertion, also takes a parent among
/// its layer-0 candidates (the nearest with fewer than M children, or else the first with room in a
/// breadth-first walk from them), and both links between the two are exempt from pruning. These links form a
/// tree rooted at row 0, so on layer 0 every node can reach every other node. Only a node with no room in the
/// whole reachable tree would stay outside, and the tree has fewer edges than its M-per-node room.</para>
/// <para>Distances are "smaller is closer" as in <see cref="ExactIndex"/>: ‖x − y‖², 1 − cos(x, y) (clamped at 0;
/// vectors are normalized at insert) and −x·y. Results are best first and equal distances rank the lower id first.
/// Searches may run concurrently with each other but not with <c>Add</c>, <c>MarkDeleted</c> or <c>Load</c>.
/// A build with one thread and a given <see cref="HnswOptions.Seed"/> is deterministic on a given machine (the
/// distance kernels' register width can change float rounding between machines); with more threads the
/// insertion order, hence the graph, varies.</para>
/// </remarks>
public sealed partial class HnswIndex
{
    /// <summary>
    /// Highest accepted node level. The smallest U the generator draws, 2^−53, gives at most level 53 (at M = 2), so
    /// the limit only bounds what a file may declare.
    /// </summary>
    internal const int MaxLevelLimit = 63;

    private readonly Dictionary<long, int> _rowById = new();
    private readonly ConcurrentBag<HnswScratch> _scratchPool = new();
    private readonly object _entryLock = new();
    private readonly int _m;
    private readonly int _layer0Stride;
    private readonly int _upperStride;
    private readonly double _levelScale;
    private int _efSearch;
    private ulong _randomState;
    private int _capacity;
    private float[] _vectors = Array.Empty<float>();
    private long[] _ids = Array.Empty<long>();
    private byte[] _levels = Array.Empty<byte>();
    private bool[] _deleted = Array.Empty<bool>();
    private int[] _parents = Array.Empty<int>();
    private int[] _childCounts = Array.Empty<int>();
    private int[] _lockWords = Array.Empty<int>();

    // Layer 0: per node, one count followed by 2M slots. Upper layers: per node of level l ≥ 1, l blocks of
    // (count + M slots) in the pool at _upperOffsets[node]; nodes are laid out in row order.
    private int[] _links0 = Array.Empty<int>();
    private int[] _upperOffsets = Array.Empty<int>();
    private int[] _upperLinks = Array.Empty<int>();
    private int _upperUsed;
    private int _entryPoint = -1;
    private int _maxLevel = -1;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Length of every vector, in [1, 1048576].</param>
    /// <param name="metric">Distance that searches rank by.</param>
    /// <param name="options">Construction settings; null uses the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public HnswIndex(int dimension, DistanceMetric metric, HnswOptions? options = null)
    {
        options ??= new HnswOptions();
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension must be in [1, {VectorChecks.MaxDimension}].");
        }

        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Metric must be SquaredEuclidean, InnerProduct or Cosine.");
        }

        if (options.Connectivity < 2 || options.Connectivity > HnswOptions.MaxConnectivity)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Connectivity, $"HnswOptions.Connectivity (M) must be in [2, {HnswOptions.MaxConnectivity}].");
        }

        if (options.EfConstruction < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.EfConstruction, "HnswOptions.EfConstruction must be at least 1.");
        }

        if (options.EfSearch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.EfSearch, "HnswOptions.EfSearch must be at least 1.");
        }

        if (options.InitialCapacity < 0 || options.InitialCapacity > Array.MaxLength / dimension)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.InitialCapacity, $"HnswOptions.InitialCapacity must be in [0, {Array.MaxLength / dimension}].");
        }

        Dimension = dimension;
        Metric = metric;
        _m = options.Connectivity;
        _layer0Stride = (2 * _m) + 1;
        _upperStride = _m + 1;
        _levelScale = 1.0 / Math.Log(_m);
        EfConstruction = options.EfConstruction;
        _efSearch = options.EfSearch;
        KeepPrunedConnections = options.KeepPrunedConnections;
        Seed = options.Seed;
        _randomState = options.Seed;
        EnsureCapacity(options.InitialCapacity);
    }

    /// <summary>Length of every vector.</summary>
    public int Dimension { get; }

    /// <summary>Distance that searches rank by.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>Number of stored vectors, deleted ones included.</summary>
    public int Count { get; private set; }

    /// <summary>Links per node M on the upper layers; layer 0 keeps up to 2M.</summary>
    public int Connectivity => _m;

    /// <summary>Beam width of the neighbor search during insertion.</summary>
    public int EfConstruction { get; }

    /// <summary>Whether neighbor selection fills free slots with pruned candidates.</summary>
    public bool KeepPrunedConnections { get; }

    /// <summary>Seed the level generator started from.</summary>
    public ulong Seed { get; }

    /// <summary>
    /// Default beam width of a query, ≥ 1, used when <see cref="HnswSearchParameters.EfSearch"/> is 0. Saved with the
    /// index, and may be changed after loading.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int EfSearch
    {
        get => _efSearch;
        set
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "EfSearch must be at least 1.");
            }

            _efSearch = value;
        }
    }

    /// <summary>Number of vectors marked deleted.</summary>
    public int DeletedCount { get; private set; }

    /// <summary>Highest layer in the graph, −1 when empty.</summary>
    internal int MaxLevel => _maxLevel;

    /// <summary>Adds vectors with the ids Count, Count + 1, … in row order.</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="threads">Insertion threads; 0 uses <see cref="Environment.ProcessorCount"/>. Only 1 gives a
    /// deterministic graph.</param>
    /// <param name="progress">Receives the number of inserted vectors about every 1% of the call, and at the end, from the calling thread.</param>
    /// <param name="cancellationToken">Token polled before each insertion. On cancellation the rows inserted so far stay,
    /// as described at <see cref="Add(ReadOnlySpan{float}, ReadOnlySpan{long}, int, IProgress{HnswAddProgress}?, CancellationToken)"/>.</param>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the length is not a multiple of the dimension, a
    /// generated id is already taken, or (cosine) a row is zero.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Add(ReadOnlySpan<float> vectors, int threads = 0, IProgress<HnswAddProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        var ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = (long)Count + i;
        }

        Add(vectors, ids, threads, progress, cancellationToken);
    }

    /// <summary>Adds vectors with the given ids and links them into the graph. Nothing is added when any check fails.</summary>
    /// <remarks>
    /// Rows are inserted in row order; worker threads take the next row in turn. When <paramref name="cancellationToken"/>
    /// is canceled, the threads finish the rows they hold and stop, the rows inserted so far (a prefix of
    /// <paramref name="vectors"/>, <see cref="Count"/> gives its end) stay searchable, and the rest are dropped as if
    /// never passed. The level generator is rewound to the first dropped row, so adding the rest later gives the same
    /// levels as one uninterrupted call.
    /// </remarks>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="ids">One id per row, each ≥ 0 and not yet in the index.</param>
    /// <param name="threads">Insertion threads; 0 uses <see cref="Environment.ProcessorCount"/>. Only 1 gives a
    /// deterministic graph.</param>
    /// <param name="progress">Receives the number of inserted vectors about every 1% of the call, and at the end, from the calling thread.</param>
    /// <param name="cancellationToken">Token polled before each insertion.</param>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the lengths do not match, an id is negative or
    /// duplicated, or (cosine) a row is zero.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled; the inserted prefix stays.</exception>
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int threads = 0, IProgress<HnswAddProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        if (ids.Length != n)
        {
            throw new ArgumentException($"Expected one id per row ({n} rows), got {ids.Length} ids.", nameof(ids));
        }

        if (threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "Threads must be 0 (all cores) or positive.");
        }

        if ((long)Count + n > Array.MaxLength / Math.Max(Dimension, _layer0Stride))
        {
            throw new ArgumentException($"Adding {n} rows to {Count} would exceed the maximum of {Array.MaxLength / Math.Max(Dimension, _layer0Stride)} vectors for dimension {Dimension} and M = {_m}.", nameof(vectors));
        }

        VectorChecks.EnsureFinite(vectors, Dimension, nameof(vectors));

        // Rows beyond Count are invisible, so a failed check below leaves the index unchanged.
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

        IdChecks.CheckNewIds(ids, _rowById, Count, nameof(ids));

        // Levels and upper-layer storage are assigned in row order before any insertion, so the level sequence
        // does not depend on the thread count and the pool never moves while threads read it.
        ulong initialRandomState = _randomState;
        ulong randomState = _randomState;
        long previousUpperUsed = _upperUsed;
        long upperNeeded = _upperUsed;
        for (int i = 0; i < n; i++)
        {
            int level = DrawLevel(ref randomState);
            _levels[start + i] = (byte)level;
            _upperOffsets[start + i] = level > 0 ? (int)Math.Min(upperNeeded, int.MaxValue) : -1;
            upperNeeded += (long)level * _upperStride;
        }

        if (upperNeeded > Array.MaxLength)
        {
            throw new ArgumentException($"Adding {n} rows would need {upperNeeded} upper-layer link slots, more than the maximum array length; add fewer vectors to this index.", nameof(vectors));
        }

        if (upperNeeded > _upperLinks.Length)
        {
            Array.Resize(ref _upperLinks, (int)Math.Min(Array.MaxLength, Math.Max(upperNeeded, _upperLinks.Length * 2L)));
        }

        _randomState = randomState;
        _upperUsed = (int)upperNeeded;
        for (int i = 0; i < n; i++)
        {
            _ids[start + i] = ids[i];
            _rowById.Add(ids[i], start + i);
            _parents[start + i] = -1;
        }

        int workers = threads == 0 ? Environment.ProcessorCount : threads;
        int inserted = InsertRows(start, total, workers, progress, cancellationToken);
        Count = inserted;
        if (inserted < total)
        {
            DropUninserted(start, inserted, total, previousUpperUsed, upperNeeded, initialRandomState);
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Marks the vector with <paramref name="id"/> deleted: searches never return it but still route through it.</summary>
    /// <returns>False when it was already marked.</returns>
    /// <exception cref="ArgumentException">No vector has this id.</exception>
    public bool MarkDeleted(long id)
    {
        int row = RowOf(id, nameof(id));
        if (_deleted[row])
        {
            return false;
        }

        _deleted[row] = true;
        DeletedCount++;
        return true;
    }

    /// <summary>Returns whether the vector with <paramref name="id"/> is marked deleted.</summary>
    /// <exception cref="ArgumentException">No vector has this id.</exception>
    public bool IsDeleted(long id) => _deleted[RowOf(id, nameof(id))];

    /// <summary>Returns whether a vector has <paramref name="id"/>.</summary>
    public bool Contains(long id) => _rowById.ContainsKey(id);

    /// <summary>Returns the stored vector of <paramref name="id"/>; under cosine it is the unit-length copy.</summary>
    /// <exception cref="ArgumentException">No vector has this id.</exception>
    public ReadOnlySpan<float> GetVector(long id) => Row(RowOf(id, nameof(id)));

    /// <summary>Returns the layer-0 links of the node stored at <paramref name="row"/>, for tests.</summary>
    internal ReadOnlySpan<int> Layer0Links(int row) => _links0.AsSpan((row * _layer0Stride) + 1, _links0[row * _layer0Stride]);

    private int RowOf(long id, string parameterName)
    {
        if (!_rowById.TryGetValue(id, out int row))
        {
            throw new ArgumentException($"No vector has id {id}.", parameterName);
        }

        return row;
    }

    private ReadOnlySpan<float> Row(int row) => _vectors.AsSpan(row * Dimension, Dimension);

    private float Distance(ReadOnlySpan<float> x, int row)
    {
        if (Metric == DistanceMetric.SquaredEuclidean)
        {
            // Rows are stored whole and x has Dimension floats, so the kernel skips its length check.
            return DistanceKernels.SquaredL2Unchecked(in MemoryMarshal.GetReference(x), in _vectors[row * Dimension], Dimension);
        }

        ReadOnlySpan<float> y = _vectors.AsSpan(row * Dimension, Dimension);
        return Metric switch
        {
            DistanceMetric.Cosine => Math.Max(0f, 1f - DistanceKernels.InnerProduct(x, y)),
            _ => -DistanceKernels.InnerProduct(x, y),
        };
    }

    /// <summary>Draws l = floor(−ln(U) · m_L) with U uniform in (0, 1], capped at <see cref="MaxLevelLimit"/>.</summary>
    private int DrawLevel(ref ulong state)
    {
        double uniform = ((NextRandom(ref state) >> 11) + 1) * (1.0 / (1UL << 53));
        double level = Math.Floor(-Math.Log(uniform) * _levelScale);
        return (int)Math.Min(level, MaxLevelLimit);
    }

    /// <summary>SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a 64-bit state that can be saved with the index.</summary>
    private static ulong NextRandom(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Forgets rows [<paramref name="inserted"/>, <paramref name="end"/>) that a canceled <c>Add</c> reserved but did
    /// not insert: their ids, their link storage and their levels. The links are cleared because a later insert does
    /// not clear the layers above the current top level, so stale links there would be followed. The generator state
    /// and the upper-layer pool return to where row <paramref name="inserted"/> would have drawn and reserved them.
    /// </summary>
    private void DropUninserted(int start, int inserted, int end, long previousUpperUsed, long reservedUpperEnd, ulong initialRandomState)
    {
        ulong randomState = initialRandomState;
        long upperUsed = previousUpperUsed;
        for (int row = start; row < inserted; row++)
        {
            _ = DrawLevel(ref randomState);
            upperUsed += (long)_levels[row] * _upperStride;
        }

        for (int row = inserted; row < end; row++)
        {
            _rowById.Remove(_ids[row]);
            _links0.AsSpan(row * _layer0Stride, _layer0Stride).Clear();
            _levels[row] = 0;
            _upperOffsets[row] = -1;
            _parents[row] = -1;
        }

        _upperLinks.AsSpan((int)upperUsed, (int)(reservedUpperEnd - upperUsed)).Clear();
        _upperUsed = (int)upperUsed;
        _randomState = randomState;
    }

    private HnswScratch RentScratch() => _scratchPool.TryTake(out HnswScratch? scratch) ? scratch : new HnswScratch(_layer0Stride);

    private void ReturnScratch(HnswScratch scratch) => _scratchPool.Add(scratch);

    private void EnsureCapacity(int rows)
    {
        if (_capacity >= rows)
        {
            return;
        }

        int limit = Array.MaxLength / Math.Max(Dimension, _layer0Stride);
        int capacity = Math.Max(rows, (int)Math.Min(limit, Math.Max(16L, _capacity * 2L)));
        Array.Resize(ref _vectors, checked(capacity * Dimension));
        Array.Resize(ref _links0, checked(capacity * _layer0Stride));
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _levels, capacity);
        Array.Resize(ref _deleted, capacity);
        Array.Resize(ref _parents, capacity);
        Array.Resize(ref _childCounts, capacity);
        Array.Resize(ref _lockWords, capacity);
        Array.Resize(ref _upperOffsets, capacity);
        _capacity = capacity;
    }
}
