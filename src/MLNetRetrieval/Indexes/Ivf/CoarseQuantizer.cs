using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// The coarse quantizer of an IVF index: nlist k-means centroids, the assignment of vectors to their nearest
/// centroid, and the choice of the nprobe nearest lists per query.
/// </summary>
/// <remarks>
/// With <see cref="CoarseSearch.Hnsw"/>, assignment and probing search an HNSW graph over the centroids instead of
/// scanning all of them, as in Baranchuk, Babenko and Malkov, "Revisiting the inverted indices for billion-scale
/// approximate nearest neighbors", ECCV 2018. The graph is built on first use, single-threaded so that it depends only
/// on the centroids and the settings.
/// </remarks>
internal sealed unsafe class CoarseQuantizer
{
    /// <summary>Iterations of the coarse k-means when the caller gives no options, as FAISS's <c>Level1Quantizer</c> sets (IndexIVF.cpp).</summary>
    public const int DefaultIterations = 10;

    /// <summary>Queries per GEMM block when probing.</summary>
    public const int ProbeBlock = 64;

    private readonly object _packLock = new();
    private readonly long[] _listNumbers;
    private PackedBase? _packed;
    private HnswIndex? _graph;
    private CoarseSearch _search;
    private int _graphConnectivity = IvfPqIndex.DefaultCoarseConnectivity;

    public CoarseQuantizer(int dimension, int numberOfLists)
    {
        Dimension = dimension;
        NumberOfLists = numberOfLists;
        _listNumbers = new long[numberOfLists];
        for (int list = 0; list < numberOfLists; list++)
        {
            _listNumbers[list] = list;
        }
    }

    public int Dimension { get; }

    public int NumberOfLists { get; }

    /// <summary>Centroids, row-major, size nlist × d; empty until trained.</summary>
    public float[] Centroids { get; private set; } = Array.Empty<float>();

    public bool IsTrained => Centroids.Length > 0;

    public void SetCentroids(float[] centroids)
    {
        lock (_packLock)
        {
            Centroids = centroids;
            _packed = null;
            _graph = null;
        }
    }

    /// <summary>How centroids are searched; changing it drops the graph.</summary>
    public CoarseSearch Search
    {
        get => _search;
        set
        {
            lock (_packLock)
            {
                _search = value;
                _graph = null;
            }
        }
    }

    /// <summary>Links per graph node (HNSW M); changing it drops the graph.</summary>
    public int GraphConnectivity
    {
        get => _graphConnectivity;
        set
        {
            lock (_packLock)
            {
                _graphConnectivity = value;
                _graph = null;
            }
        }
    }

    /// <summary>Beam width of graph searches; a probe uses max(this, nprobe).</summary>
    public int GraphEfSearch { get; set; } = IvfPqIndex.DefaultCoarseEfSearch;

    /// <summary>
    /// Returns the centroid graph, building it on first use; null under <see cref="CoarseSearch.Exact"/>. A canceled
    /// build leaves no graph, so the next call starts over.
    /// </summary>
    public HnswIndex? GetGraph(IProgress<HnswAddProgress>? progress = null, CancellationToken token = default)
    {
        lock (_packLock)
        {
            if (_search == CoarseSearch.Exact || !IsTrained)
            {
                return null;
            }

            if (_graph is null)
            {
                var graph = new HnswIndex(Dimension, DistanceMetric.SquaredEuclidean, new HnswOptions
                {
                    Connectivity = _graphConnectivity,
                    EfConstruction = Math.Max(IvfPqIndex.CoarseEfConstruction, _graphConnectivity),
                    InitialCapacity = NumberOfLists,
                });
                // NOTE: the graph keeps its own copy of the centroids, so they take twice the memory and file space.
                graph.Add(Centroids, _listNumbers, threads: 1, progress, token);
                _graph = graph;
            }

            return _graph;
        }
    }

    /// <summary>Installs a graph read from a file; the caller has checked it against the centroids.</summary>
    public void SetGraph(HnswIndex graph)
    {
        lock (_packLock)
        {
            _search = CoarseSearch.Hnsw;
            _graphConnectivity = graph.Connectivity;
            _graph = graph;
        }
    }

    /// <summary>Runs k-means with nlist clusters; the caller has checked that there are at least nlist vectors.</summary>
    // TODO: assign through an HNSW graph over the current centroids in the Lloyd iterations, so that k-means at nlist
    // 65536 and above can train on more than a few vectors per centroid in bounded time.
    public void Train(ReadOnlySpan<float> vectors, int count, KMeansOptions? options, VectorWidth width)
    {
        KMeansOptions settings = options?.Clone() ?? new KMeansOptions { MaxIterations = DefaultIterations };
        settings.NumberOfClusters = NumberOfLists;
        KMeansResult result = KMeans.TrainAtWidth(vectors, count, Dimension, settings, width);
        SetCentroids(result.Centroids);
    }

    /// <summary>
    /// Writes the nearest list of each vector (lower index on ties), on all cores. With a graph the list is the nearest
    /// centroid the graph search finds, which may miss the true nearest one.
    /// </summary>
    public void Assign(ReadOnlySpan<float> vectors, int count, Span<int> lists, VectorWidth width, CancellationToken token = default)
    {
        var distances = new float[count];
        HnswIndex? graph = GetGraph(progress: null, token);
        if (graph is not null)
        {
            var found = new long[count];
            graph.Search(vectors.Slice(0, count * Dimension), 1, found, distances, new HnswSearchParameters { EfSearch = GraphEfSearch, CancellationToken = token });
            for (int i = 0; i < count; i++)
            {
                lists[i] = (int)found[i];
            }

            return;
        }

        KMeans.AssignPacked(GetPacked(width), vectors, count, lists, distances, ParallelBlocks.Resolve(0), token);
    }

    public PackedBase GetPacked(VectorWidth width)
    {
        lock (_packLock)
        {
            if (_packed is null || _packed.Width != width)
            {
                _packed = PackedBase.Create(Centroids, NumberOfLists, Dimension, addSquaredNorms: true, width);
            }

            return _packed;
        }
    }

    /// <summary>
    /// Writes, per query, the <paramref name="nprobe"/> nearest lists best first (ties to the lower list) and their
    /// squared distances, layout (count, nprobe). Blocks of at least <see cref="GemmKernel.TileRows"/> queries go
    /// through the GEMM; smaller ones through <see cref="SingleQueryKernel"/>, which gives bit-identical distances.
    /// With a graph, each query searches it with beam max(<see cref="GraphEfSearch"/>, nprobe) instead, and the
    /// exact path runs only when the graph search leaves a slot empty.
    /// </summary>
    public void Probe(PackedBase packed, ReadOnlySpan<float> queries, int count, ReadOnlySpan<float> norms, int nprobe, Span<int> lists, Span<float> distances, ProbeScratch scratch, CancellationToken token)
    {
        int d = Dimension;
        HnswIndex? graph = GetGraph();
        if (graph is not null && ProbeGraph(graph, queries, count, nprobe, lists, distances, scratch, token))
        {
            return;
        }

        var form = new DistanceForm(-2f, ClampAtZero: true);
        for (int first = 0; first < count; first += ProbeBlock)
        {
            int rows = Math.Min(ProbeBlock, count - first);
            Span<long> found = scratch.Found.AsSpan(0, rows * nprobe);
            Span<float> foundDistances = distances.Slice(first * nprobe, rows * nprobe);
            if (rows >= GemmKernel.TileRows)
            {
                ExactSearchKernel.SearchBlock(packed, _listNumbers, queries.Slice(first * d, rows * d), rows, norms.Slice(first, rows), form, ReadOnlySpan<long>.Empty, nprobe, foundDistances, found, scratch.GetGemm(), GemmKernel.DefaultKc, token);
            }
            else
            {
                for (int q = 0; q < rows; q++)
                {
                    token.ThrowIfCancellationRequested();
                    int panels = packed.Panels.Length / (d * packed.PanelWidth);
                    fixed (float* pQuery = queries.Slice((first + q) * d, d), pPanels = packed.Panels, pTerms = packed.ColumnTerms, pRow = scratch.Row)
                    {
                        SingleQueryKernel.Distances(packed.Width, pQuery, d, norms[first + q], pPanels, panels, pTerms, -2f, clampAtZero: true, pRow);
                    }

                    int heapCount = 0;
                    TopK.PushRow(scratch.Row.AsSpan(0, NumberOfLists), _listNumbers, -1, scratch.HeapDistances, scratch.HeapIds, ref heapCount, packed.Width);
                    TopK.Drain(scratch.HeapDistances, scratch.HeapIds, ref heapCount, foundDistances.Slice(q * nprobe, nprobe), found.Slice(q * nprobe, nprobe));
                }
            }

            for (int i = 0; i < found.Length; i++)
            {
                lists[(first * nprobe) + i] = (int)found[i];
            }
        }
    }

    /// <summary>Probes through the graph; returns false when some query got fewer than nprobe lists.</summary>
    private bool ProbeGraph(HnswIndex graph, ReadOnlySpan<float> queries, int count, int nprobe, Span<int> lists, Span<float> distances, ProbeScratch scratch, CancellationToken token)
    {
        int d = Dimension;
        var parameters = new HnswSearchParameters { EfSearch = Math.Max(GraphEfSearch, nprobe), Threads = 1, CancellationToken = token };
        for (int first = 0; first < count; first += ProbeBlock)
        {
            int rows = Math.Min(ProbeBlock, count - first);
            Span<long> found = scratch.Found.AsSpan(0, rows * nprobe);
            graph.Search(queries.Slice(first * d, rows * d), nprobe, found, distances.Slice(first * nprobe, rows * nprobe), parameters);
            for (int i = 0; i < found.Length; i++)
            {
                if (found[i] < 0)
                {
                    return false;
                }

                lists[(first * nprobe) + i] = (int)found[i];
            }
        }

        return true;
    }
}

/// <summary>Per-thread buffers of <see cref="CoarseQuantizer.Probe"/>.</summary>
internal sealed class ProbeScratch
{
    private readonly PackedBase _packed;
    private readonly int _nprobe;
    private ExactSearchScratch? _gemm;

    public ProbeScratch(PackedBase packed, int nprobe)
    {
        _packed = packed;
        _nprobe = nprobe;
        Row = new float[packed.ColumnTerms.Length];
        HeapDistances = new float[nprobe];
        HeapIds = new long[nprobe];
        Found = new long[CoarseQuantizer.ProbeBlock * nprobe];
    }

    /// <summary>Returns the GEMM buffers, created on first use so that one-query searches do not allocate them.</summary>
    public ExactSearchScratch GetGemm()
    {
        int blockColumns = GemmKernel.BlockColumns(_packed.Dimension, GemmKernel.DefaultKc, _packed.PanelWidth);
        return _gemm ??= new ExactSearchScratch(CoarseQuantizer.ProbeBlock, _packed.Dimension, blockColumns, _nprobe);
    }

    /// <summary>Distances from one query to every centroid, padded to whole panels.</summary>
    public float[] Row { get; }

    public float[] HeapDistances { get; }

    public long[] HeapIds { get; }

    /// <summary>List numbers found for one block, layout (ProbeBlock, nprobe).</summary>
    public long[] Found { get; }
}
