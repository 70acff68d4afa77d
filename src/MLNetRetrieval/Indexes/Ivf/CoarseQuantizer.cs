using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// The coarse quantizer of an IVF index: nlist k-means centroids, the assignment of vectors to their nearest
/// centroid, and the choice of the nprobe nearest lists per query.
/// </summary>
internal sealed unsafe class CoarseQuantizer
{
    /// <summary>Iterations of the coarse k-means when the caller gives no options, as FAISS's <c>Level1Quantizer</c> sets (IndexIVF.cpp).</summary>
    public const int DefaultIterations = 10;

    /// <summary>Queries per GEMM block when probing.</summary>
    public const int ProbeBlock = 64;

    private readonly object _packLock = new();
    private readonly long[] _listNumbers;
    private PackedBase? _packed;

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
        }
    }

    /// <summary>Runs k-means with nlist clusters; the caller has checked that there are at least nlist vectors.</summary>
    public void Train(ReadOnlySpan<float> vectors, int count, KMeansOptions? options, VectorWidth width)
    {
        KMeansOptions settings = options?.Clone() ?? new KMeansOptions { MaxIterations = DefaultIterations };
        settings.NumberOfClusters = NumberOfLists;
        KMeansResult result = KMeans.TrainAtWidth(vectors, count, Dimension, settings, width);
        SetCentroids(result.Centroids);
    }

    /// <summary>Writes the nearest list of each vector (lower index on ties), on all cores.</summary>
    public void Assign(ReadOnlySpan<float> vectors, int count, Span<int> lists, VectorWidth width)
    {
        var distances = new float[count];
        KMeans.AssignPacked(GetPacked(width), vectors, count, lists, distances, ParallelBlocks.Resolve(0), CancellationToken.None);
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
    /// </summary>
    public void Probe(PackedBase packed, ReadOnlySpan<float> queries, int count, ReadOnlySpan<float> norms, int nprobe, Span<int> lists, Span<float> distances, ProbeScratch scratch, CancellationToken token)
    {
        int d = Dimension;
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
