using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// Inverted-file index with product-quantized vectors, IVFADC in Jégou, Douze and Schmid, "Product quantization
/// for nearest neighbor search", IEEE TPAMI 33(1), 2011 (FAISS <c>IndexIVFPQ</c>): k-means splits the space into
/// nlist cells, each vector is stored in the list of its nearest centroid c as the M-byte PQ code of its residual
/// x − c, and a search scans the nprobe nearest lists by asymmetric distance (ADC).
/// </summary>
/// <remarks>
/// <para>Only squared Euclidean distance is supported. Returned distances are ‖q − c − y_R‖², the squared distance
/// from the query to the decoded vector c + y_R, so they are approximate; with
/// <see cref="IvfSearchParameters.RerankCount"/> the best candidates are re-ranked by their exact distance to the
/// stored raw vectors (<see cref="StoreVectorsForReranking"/>), and exact distances are returned. Results are best
/// first, ties go to the lower id, and they do not depend on the thread count.</para>
/// <para>With <see cref="EncodeResiduals"/> false, codes encode the vectors themselves and the coarse quantizer only
/// selects the lists (FAISS <c>by_residual = false</c>).</para>
/// <para>With <see cref="CoarseSearch"/> set to <see cref="Indexes.CoarseSearch.Hnsw"/>, the nlist centroids go into an
/// HNSW graph that assigns vectors at <c>Add</c> and picks the nprobe lists at <c>Search</c> (IVF-HNSW, Baranchuk,
/// Babenko and Malkov, "Revisiting the inverted indices for billion-scale approximate nearest neighbors", ECCV 2018),
/// which keeps the coarse step cheap at nlist in the tens of thousands. Train such indexes on a sample: k-means cost
/// still grows with nlist.</para>
/// <para>Searches may run concurrently with each other but not with <c>Train</c>, <c>Add</c> or <c>Remove</c>.</para>
/// </remarks>
public sealed partial class IvfPqIndex
{
    private readonly CoarseQuantizer _coarse;
    private readonly InvertedLists _lists;
    private readonly object _cacheLock = new();
    private PackedBase[]? _packedBooks;
    private float[]? _precomputed;
    private int _defaultNumberOfProbes = 1;

    /// <summary>Default <see cref="CoarseConnectivity"/>.</summary>
    public const int DefaultCoarseConnectivity = 32;

    /// <summary>Default <see cref="CoarseEfSearch"/>.</summary>
    public const int DefaultCoarseEfSearch = 64;

    /// <summary>Beam width used to build the centroid graph.</summary>
    internal const int CoarseEfConstruction = 200;

    /// <summary>Creates an empty, untrained index.</summary>
    /// <param name="dimension">Length d of every vector, in [1, 1048576], a multiple of <paramref name="numberOfSubquantizers"/>.</param>
    /// <param name="numberOfLists">Number of inverted lists nlist (coarse centroids), in [1, 16777216].</param>
    /// <param name="numberOfSubquantizers">Number of PQ subspaces M; each vector is stored in M bytes.</param>
    /// <param name="bitsPerSubquantizer">Bits per sub-code; only 8 is supported.</param>
    /// <param name="encodeResiduals">Whether codes encode x − c (the default, more accurate) or x.</param>
    /// <param name="storeVectorsForReranking">Whether to keep the raw vectors too (4 × d bytes each) so that
    /// searches can re-rank candidates exactly.</param>
    /// <exception cref="ArgumentException">A value is out of range or d is not a multiple of M.</exception>
    public IvfPqIndex(int dimension, int numberOfLists, int numberOfSubquantizers, int bitsPerSubquantizer = 8, bool encodeResiduals = true, bool storeVectorsForReranking = false)
    {
        IvfChecks.CheckConstructor(dimension, numberOfLists);
        Quantizer = new ProductQuantizer(dimension, numberOfSubquantizers, bitsPerSubquantizer);
        NumberOfLists = numberOfLists;
        EncodeResiduals = encodeResiduals;
        StoreVectorsForReranking = storeVectorsForReranking;
        _coarse = new CoarseQuantizer(dimension, numberOfLists);
        _lists = new InvertedLists(numberOfLists, storeVectorsForReranking ? dimension : 0, Quantizer.CodeSize);
    }

    private IvfPqIndex(ProductQuantizer quantizer, int numberOfLists, bool encodeResiduals, bool storeVectorsForReranking)
    {
        Quantizer = quantizer;
        NumberOfLists = numberOfLists;
        EncodeResiduals = encodeResiduals;
        StoreVectorsForReranking = storeVectorsForReranking;
        _coarse = new CoarseQuantizer(quantizer.Dimension, numberOfLists);
        _lists = new InvertedLists(numberOfLists, storeVectorsForReranking ? quantizer.Dimension : 0, quantizer.CodeSize);
    }

    /// <summary>Length of every vector.</summary>
    public int Dimension => Quantizer.Dimension;

    /// <summary>Number of inverted lists nlist.</summary>
    public int NumberOfLists { get; }

    /// <summary>Number of PQ subspaces M.</summary>
    public int NumberOfSubquantizers => Quantizer.NumberOfSubquantizers;

    /// <summary>Bits per sub-code nbits (8).</summary>
    public int BitsPerSubquantizer => Quantizer.BitsPerSubquantizer;

    /// <summary>Whether codes encode the residual to the list's centroid (FAISS <c>by_residual</c>).</summary>
    public bool EncodeResiduals { get; }

    /// <summary>Whether raw vectors are stored next to the codes, which <see cref="IvfSearchParameters.RerankCount"/> needs.</summary>
    public bool StoreVectorsForReranking { get; }

    /// <summary>
    /// Whether residual searches use the precomputed table of nlist × M × ksub floats (FAISS
    /// <c>use_precomputed_table</c>), built on the first search: 16 MiB at nlist 1024, M 16. Default true. When false,
    /// each (query, list) pair computes its residual table from scratch, d × ksub multiply-adds. Not saved with the index.
    /// </summary>
    public bool UsePrecomputedTable { get; set; } = true;

    /// <summary>
    /// Lists scanned per query (nprobe) when <see cref="IvfSearchParameters.NumberOfProbes"/> is 0, in [1, nlist].
    /// Default 1. Saved with the index, and may be changed after loading.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [1, nlist].</exception>
    public int DefaultNumberOfProbes
    {
        get => _defaultNumberOfProbes;
        set
        {
            IvfChecks.CheckProbes(value, NumberOfLists, nameof(value));
            _defaultNumberOfProbes = value;
        }
    }

    /// <summary>
    /// How centroids are searched at <c>Add</c> and <c>Search</c>: <see cref="Indexes.CoarseSearch.Exact"/> (default) or
    /// through an HNSW graph. The graph is built single-threaded by <c>Train</c>, or on first use after a change, and
    /// saved with the index. Changing it on a filled index is allowed: stored codes stay valid, only later assignments
    /// and probes change.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a <see cref="Indexes.CoarseSearch"/>.</exception>
    public CoarseSearch CoarseSearch
    {
        get => _coarse.Search;
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "CoarseSearch must be Exact or Hnsw.");
            }

            _coarse.Search = value;
        }
    }

    /// <summary>Links per node of the centroid graph (HNSW M), in [2, <see cref="HnswOptions.MaxConnectivity"/>]. Default 32.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is out of range.</exception>
    public int CoarseConnectivity
    {
        get => _coarse.GraphConnectivity;
        set
        {
            if (value < 2 || value > HnswOptions.MaxConnectivity)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"CoarseConnectivity must be in [2, {HnswOptions.MaxConnectivity}].");
            }

            _coarse.GraphConnectivity = value;
        }
    }

    /// <summary>
    /// Beam width of centroid graph searches, ≥ 1; a search probing nprobe lists uses max(this, nprobe). Default 64.
    /// At nlist or above the graph finds the exact nearest centroids in practice. Saved with the index.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int CoarseEfSearch
    {
        get => _coarse.GraphEfSearch;
        set
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "CoarseEfSearch must be at least 1.");
            }

            _coarse.GraphEfSearch = value;
        }
    }

    /// <summary>The product quantizer that encodes the residuals (or vectors).</summary>
    public ProductQuantizer Quantizer { get; }

    /// <summary>Whether the coarse centroids and the quantizer are trained, which <c>Add</c> and <c>Search</c> require.</summary>
    public bool IsTrained => _coarse.IsTrained && Quantizer.IsTrained;

    /// <summary>Number of stored vectors.</summary>
    public int Count => _lists.Count;

    /// <summary>Coarse centroids, row-major, size nlist × d; empty until trained.</summary>
    public ReadOnlySpan<float> Centroids => _coarse.Centroids;

    /// <summary>The coarse quantizer, for tests that compare probed lists.</summary>
    internal CoarseQuantizer Coarse => _coarse;

    /// <summary>Register width of the search kernels; tests set a narrower one to cover every code path.</summary>
    internal VectorWidth Width { get; set; } = VectorWidths.Best;

    /// <summary>
    /// Trains the coarse centroids by k-means, then the product quantizer on the residuals of the training vectors
    /// to their nearest centroid (or on the vectors when <see cref="EncodeResiduals"/> is false).
    /// </summary>
    /// <param name="vectors">Training vectors, row-major, size n × <see cref="Dimension"/>, n ≥ max(nlist, 256).</param>
    /// <param name="options">k-means settings for both steps; <see cref="KMeansOptions.NumberOfClusters"/> is replaced by
    /// nlist and by ksub. Its <see cref="KMeansOptions.CancellationToken"/> also stops the build of the centroid graph.
    /// Null uses the defaults, with 10 iterations for the coarse step.</param>
    /// <param name="coarseGraphProgress">Receives the progress of the centroid graph build, which runs between the two
    /// k-means steps under <see cref="Indexes.CoarseSearch.Hnsw"/>; null reports nothing.</param>
    /// <exception cref="InvalidOperationException">The index contains vectors, whose codes would become invalid.</exception>
    /// <exception cref="ArgumentException">There are fewer vectors than lists or than ksub, a value is NaN or infinite, or
    /// the length is not a multiple of the dimension.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled; the index is then left untrained.</exception>
    public void Train(ReadOnlySpan<float> vectors, KMeansOptions? options = null, IProgress<HnswAddProgress>? coarseGraphProgress = null)
    {
        if (Count > 0)
        {
            throw new InvalidOperationException($"The index contains {Count} encoded vectors, so it cannot be retrained; create a new index.");
        }

        int n = IvfChecks.CheckTrainingSet(vectors, Dimension, NumberOfLists);
        if (n < Quantizer.CentroidsPerSubquantizer)
        {
            throw new ArgumentException(
                $"IVF-PQ training needs at least ksub = {Quantizer.CentroidsPerSubquantizer} vectors for the product quantizer, got {n}. Provide more vectors.",
                nameof(vectors));
        }

        CancellationToken token = options?.CancellationToken ?? CancellationToken.None;
        try
        {
            _coarse.Train(vectors, n, options, Width);
            _coarse.GetGraph(coarseGraphProgress, token);
            float[] residuals = Residuals(vectors, n, token: token);
            Quantizer.Width = Width;
            Quantizer.Train(residuals, n, options);
        }
        catch (OperationCanceledException)
        {
            // Centroids without a quantizer would make IsTrained false anyway; drop them so that a retry starts clean.
            _coarse.SetCentroids(Array.Empty<float>());
            throw;
        }

        lock (_cacheLock)
        {
            _packedBooks = null;
            _precomputed = null;
        }
    }

    /// <summary>Adds vectors with the ids NextId, NextId + 1, … in row order, where NextId is one past the largest id ever stored (0 at first).</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="cancellationToken">Token polled during the coarse assignment; nothing is added when it is canceled.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite or the length is not a multiple of the dimension.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Add(ReadOnlySpan<float> vectors, CancellationToken cancellationToken = default)
    {
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        Add(vectors, IvfChecks.NextIds(_lists, n), cancellationToken);
    }

    /// <summary>
    /// Encodes and adds vectors with the given ids to the lists of their nearest centroids, in row order. Nothing is
    /// added when any check fails. Assignment and encoding run on all cores.
    /// </summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="ids">One id per row, each ≥ 0 and not yet in the index.</param>
    /// <param name="cancellationToken">Token polled during the coarse assignment (and the centroid graph build, when
    /// it has not run yet); nothing is added when it is canceled.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the lengths do not match, or an id is negative or duplicated.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, CancellationToken cancellationToken = default)
    {
        EnsureTrained();
        int n = IvfChecks.CheckAdd(vectors, ids, Dimension, _lists);
        var assignments = new int[n];
        float[] residuals = Residuals(vectors, n, assignments, cancellationToken);
        int codeSize = Quantizer.CodeSize;
        var codes = new byte[checked(n * codeSize)];
        Quantizer.Width = Width;
        Quantizer.Encode(residuals, n, codes);
        int stored = StoreVectorsForReranking ? Dimension : 0;
        for (int i = 0; i < n; i++)
        {
            _lists.Append(assignments[i], ids[i], vectors.Slice(i * Dimension, stored), codes.AsSpan(i * codeSize, codeSize));
        }
    }

    /// <summary>
    /// Writes the list that <c>Add</c> would put each vector in: its nearest centroid, found by comparing with every
    /// centroid or through the centroid graph, as <see cref="CoarseSearch"/> sets. Runs on all cores.
    /// </summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="lists">Output list per vector, size n.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">The sizes do not match, or a value is NaN or infinite.</exception>
    public void AssignToLists(ReadOnlySpan<float> vectors, Span<int> lists)
    {
        EnsureTrained();
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        if (lists.Length != n)
        {
            throw new ArgumentException($"Expected one list slot per vector ({n}), got {lists.Length}.", nameof(lists));
        }

        VectorChecks.EnsureFinite(vectors, Dimension, nameof(vectors));
        _coarse.Assign(vectors, n, lists, Width);
    }

    /// <summary>Removes the vector with <paramref name="id"/>; returns whether it was stored.</summary>
    public bool Remove(long id) => _lists.Remove(new[] { id }) == 1;

    /// <summary>Removes every stored vector whose id is listed, ignoring ids that are not stored; returns how many were removed.</summary>
    public int Remove(ReadOnlySpan<long> ids) => _lists.Remove(ids);

    /// <summary>Returns whether a vector with <paramref name="id"/> is stored.</summary>
    public bool Contains(long id) => _lists.Contains(id);

    /// <summary>Finds the list that stores <paramref name="id"/>.</summary>
    public bool TryGetList(long id, out int list) => _lists.TryGetLocation(id, out list, out _);

    /// <summary>Copies the code of <paramref name="id"/> into <paramref name="destination"/> (CodeSize bytes); returns false when the id is not stored.</summary>
    /// <exception cref="ArgumentException">The destination length is not the code size.</exception>
    public bool TryGetCode(long id, Span<byte> destination)
    {
        int codeSize = Quantizer.CodeSize;
        if (destination.Length != codeSize)
        {
            throw new ArgumentException($"Expected a destination of CodeSize = {codeSize} bytes, got {destination.Length}.", nameof(destination));
        }

        if (!_lists.TryGetLocation(id, out int list, out int position))
        {
            return false;
        }

        _lists.Codes(list).Slice(position * codeSize, codeSize).CopyTo(destination);
        return true;
    }

    /// <summary>Returns the number of vectors in <paramref name="list"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The list is outside [0, nlist).</exception>
    public int GetListSize(int list)
    {
        if ((uint)list >= (uint)NumberOfLists)
        {
            throw new ArgumentOutOfRangeException(nameof(list), list, $"List must be in [0, {NumberOfLists - 1}].");
        }

        return _lists.Size(list);
    }

    /// <summary>Finds the <paramref name="k"/> stored vectors nearest to each query by ADC among the nprobe lists nearest to it.</summary>
    /// <param name="queries">Row-major queries, size nq × <see cref="Dimension"/>.</param>
    /// <param name="k">Neighbors per query, ≥ 1. Slots beyond the vectors in the probed lists get id −1 and distance +∞.</param>
    /// <param name="ids">Output ids, size nq × k, best first per query.</param>
    /// <param name="distances">Output squared distances, size nq × k: to the decoded vectors, or exact after re-ranking.</param>
    /// <param name="parameters">Probes, re-ranking, threads, excluded ids, cancellation and progress; null uses the defaults.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">Shapes do not match, a query value is NaN or infinite, the number of probes is
    /// outside [1, nlist], or re-ranking is asked for with fewer than k candidates or without stored vectors.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, IvfSearchParameters? parameters = null)
    {
        EnsureTrained();
        parameters ??= new IvfSearchParameters();
        int nprobe = IvfChecks.CheckSearch(queries, k, ids, distances, parameters, Dimension, NumberOfLists, DefaultNumberOfProbes, out int nq);
        if (parameters.RerankCount > 0 && parameters.RerankCount < k)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.RerankCount, $"IvfSearchParameters.RerankCount must be 0 (off) or at least k = {k}.");
        }

        if (parameters.RerankCount > 0 && !StoreVectorsForReranking)
        {
            throw new ArgumentException("IvfSearchParameters.RerankCount needs the raw vectors, but this index was created with storeVectorsForReranking: false.", nameof(parameters));
        }

        var job = new SearchJob(this, queries.ToArray(), nq, k, nprobe, parameters);
        job.Run();
        job.ResultIds.CopyTo(ids);
        job.ResultDistances.CopyTo(distances);
    }

    private void EnsureTrained()
    {
        if (!IsTrained)
        {
            throw new InvalidOperationException("The IVF-PQ index is not trained; call Train with representative vectors first.");
        }
    }

    /// <summary>Returns x − c(x) for each row, or a copy of the rows when residuals are off; fills the assignments when given.</summary>
    private float[] Residuals(ReadOnlySpan<float> vectors, int n, int[]? assignments = null, CancellationToken token = default)
    {
        assignments ??= new int[n];
        _coarse.Assign(vectors, n, assignments, Width, token);
        float[] result = vectors.ToArray();
        if (!EncodeResiduals)
        {
            return result;
        }

        int d = Dimension;
        float[] centroids = _coarse.Centroids;
        for (int i = 0; i < n; i++)
        {
            System.Numerics.Tensors.TensorPrimitives.Subtract(result.AsSpan(i * d, d), centroids.AsSpan(assignments[i] * d, d), result.AsSpan(i * d, d));
        }

        return result;
    }

    /// <summary>Returns the codebook of each subspace packed for <see cref="SingleQueryKernel"/>, with ‖C_j,c‖² column terms.</summary>
    private PackedBase[] GetPackedBooks()
    {
        lock (_cacheLock)
        {
            if (_packedBooks is null || _packedBooks[0].Width != Width)
            {
                int m = NumberOfSubquantizers;
                int ksub = Quantizer.CentroidsPerSubquantizer;
                int dsub = Quantizer.SubDimension;
                var books = new PackedBase[m];
                for (int j = 0; j < m; j++)
                {
                    books[j] = PackedBase.Create(Quantizer.Codebooks.AsSpan(j * ksub * dsub, ksub * dsub), ksub, dsub, addSquaredNorms: true, Width);
                }

                _packedBooks = books;
            }

            return _packedBooks;
        }
    }

    /// <summary>
    /// Returns the list-dependent term of the residual ADC, layout (nlist, M, ksub):
    /// <c>P[l, j, c] = 2⟨c_l,j, C_j,c⟩</c>, the subvector j of centroid l against centroid c of subspace j.
    /// </summary>
    private float[] GetPrecomputedTable()
    {
        lock (_cacheLock)
        {
            if (_precomputed is null)
            {
                int nlist = NumberOfLists;
                int m = NumberOfSubquantizers;
                int ksub = Quantizer.CentroidsPerSubquantizer;
                int dsub = Quantizer.SubDimension;
                int d = Dimension;
                var table = new float[checked(nlist * m * ksub)];
                var sub = new float[checked(nlist * dsub)];
                var dots = new float[checked(nlist * ksub)];
                float[] centroids = _coarse.Centroids;
                for (int j = 0; j < m; j++)
                {
                    for (int l = 0; l < nlist; l++)
                    {
                        centroids.AsSpan((l * d) + (j * dsub), dsub).CopyTo(sub.AsSpan(l * dsub, dsub));
                    }

                    GemmKernel.MultiplyTransposed(sub, nlist, Quantizer.Codebooks.AsSpan(j * ksub * dsub, ksub * dsub), ksub, dsub, dots, Width);
                    for (int l = 0; l < nlist; l++)
                    {
                        Span<float> target = table.AsSpan(((l * m) + j) * ksub, ksub);
                        ReadOnlySpan<float> source = dots.AsSpan(l * ksub, ksub);
                        for (int c = 0; c < ksub; c++)
                        {
                            target[c] = 2f * source[c];
                        }
                    }
                }

                _precomputed = table;
            }

            return _precomputed;
        }
    }
}
