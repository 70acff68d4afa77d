using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Fits an inverted-file index over product-quantization codes (FAISS <c>IndexIVFPQ</c>) and returns a
/// <see cref="NeighborSearchingTransformer"/> that adds each query's approximate neighbors.
/// </summary>
/// <remarks>
/// <para>
/// IVFADC from Jégou, Douze and Schmid, "Product quantization for nearest neighbor search", IEEE
/// TPAMI 33(1), 2011: k-means splits the space into nlist cells; each vector y is stored in the list
/// of its nearest centroid \(c(y)\) as the M-byte PQ code of its residual \(r(y) = y - c(y)\) (or of y
/// itself when <see cref="Options.EncodeResiduals"/> is off). A query x scans the nprobe nearest lists
/// and ranks codes by asymmetric distance \(\lVert x - c(y) - q(r(y)) \rVert_2^2\), with ksub = 2^nbits
/// centroids per subquantizer. With <see cref="Options.RerankCount"/> the best candidates are re-ranked
/// by exact distance to raw vectors, which the index then stores too (4d bytes more per vector).
/// </para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: coarse k-means (nlist centroids) and M sub-space k-means (ksub centroids each) on a sample.</description></item>
/// <item><term>Input columns</term><description>A vector of Single whose length is a multiple of M; optional integer id and label columns.</description></item>
/// <item><term>Output columns</term><description>Neighbor ids (vector of Int64), approximate squared Euclidean distances (vector of Single; exact after re-ranking), neighbor labels (vector of Text, with labels).</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains centroids, codebooks and codes.</description></item>
/// </list>
/// </remarks>
/// <seealso cref="RetrievalCatalog.IndexIvfPq(string, int, int, int, int, string?, string?)"/>
public sealed class IvfPqIndexingEstimator : IEstimator<NeighborSearchingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="IvfPqIndexingEstimator"/>.</summary>
    public sealed class Options : IvfIndexOptions
    {
        /// <summary>Default values of <see cref="Options"/>.</summary>
        public new static class Defaults
        {
            /// <summary>Default number of subquantizers M: 8, so each vector is stored in 8 bytes.</summary>
            public const int NumberOfSubquantizers = 8;

            /// <summary>Default bits per sub-code nbits: 8 (ksub = 256), the only supported value.</summary>
            public const int BitsPerSubquantizer = 8;

            /// <summary>Default: encode residuals to the coarse centroid, which is more accurate.</summary>
            public const bool EncodeResiduals = true;

            /// <summary>Default number of candidates re-ranked by exact distance: 0 (off; no raw vectors stored).</summary>
            public const int RerankCount = 0;
        }

        /// <summary>Number of subquantizers M: subspaces per vector and bytes per code. The dimension must be a multiple of M.</summary>
        public int NumberOfSubquantizers { get; set; } = Defaults.NumberOfSubquantizers;

        /// <summary>Bits per sub-code nbits; ksub = 2^nbits centroids per subspace. Only 8 is supported.</summary>
        public int BitsPerSubquantizer { get; set; } = Defaults.BitsPerSubquantizer;

        /// <summary>Whether codes encode the residual y − c(y) to the list's centroid (FAISS <c>by_residual</c>) rather than y.</summary>
        public bool EncodeResiduals { get; set; } = Defaults.EncodeResiduals;

        /// <summary>
        /// Candidates per query re-ranked by exact squared distance: 0 turns re-ranking off, otherwise at
        /// least <see cref="NeighborSearchOptions.NumberOfNeighbors"/>. A positive value stores the raw
        /// vectors in the index as well (4d bytes per vector).
        /// </summary>
        public int RerankCount { get; set; } = Defaults.RerankCount;

        /// <summary>
        /// How the coarse centroids are searched: <see cref="Indexes.CoarseSearch.Exact"/> (default) or through an HNSW
        /// graph (IVF-HNSW, Baranchuk, Babenko and Malkov, ECCV 2018), which pays off at nlist in the tens of thousands.
        /// </summary>
        public CoarseSearch CoarseSearch { get; set; } = CoarseSearch.Exact;

        /// <summary>Links per node of the centroid graph (HNSW M) when <see cref="CoarseSearch"/> is Hnsw.</summary>
        public int CoarseConnectivity { get; set; } = IvfPqIndex.DefaultCoarseConnectivity;

        /// <summary>Beam width of centroid graph searches when <see cref="CoarseSearch"/> is Hnsw; a search uses max(this, nprobe).</summary>
        public int CoarseEfSearch { get; set; } = IvfPqIndex.DefaultCoarseEfSearch;

        internal new void Validate()
        {
            base.Validate();
            QuantizerSettings.Check(NumberOfSubquantizers, BitsPerSubquantizer, TrainingSampleSize);
            if (RerankCount != 0 && RerankCount < NumberOfNeighbors)
                throw new ArgumentOutOfRangeException(nameof(RerankCount), RerankCount, $"RerankCount must be 0 (off) or at least NumberOfNeighbors = {NumberOfNeighbors}.");
            if (!Enum.IsDefined(CoarseSearch))
                throw new ArgumentOutOfRangeException(nameof(CoarseSearch), CoarseSearch, "CoarseSearch must be Exact or Hnsw.");
            if (CoarseConnectivity < 2 || CoarseConnectivity > HnswOptions.MaxConnectivity)
                throw new ArgumentOutOfRangeException(nameof(CoarseConnectivity), CoarseConnectivity, $"CoarseConnectivity must be in [2, {HnswOptions.MaxConnectivity}].");
            if (CoarseEfSearch < 1)
                throw new ArgumentOutOfRangeException(nameof(CoarseEfSearch), CoarseEfSearch, "CoarseEfSearch must be at least 1.");
        }
    }

    internal IvfPqIndexingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Reads the collection, trains centroids and codebooks, encodes every row and returns the searching transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="ArgumentException">The dimension is not a multiple of <see cref="Options.NumberOfSubquantizers"/>.</exception>
    /// <exception cref="InvalidOperationException">The collection has fewer rows than max(nlist, ksub).</exception>
    /// <exception cref="InvalidDataException">A row has a bad value (NaN, wrong length, negative or duplicate id).</exception>
    public NeighborSearchingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CollectionData data = CollectionReader.Read(input, _options);
        _options.CancellationToken.ThrowIfCancellationRequested();

        var index = new IvfPqIndex(data.Dimension, _options.NumberOfLists, _options.NumberOfSubquantizers, _options.BitsPerSubquantizer,
            _options.EncodeResiduals, storeVectorsForReranking: _options.RerankCount > 0)
        {
            DefaultNumberOfProbes = _options.NumberOfProbes,
            CoarseSearch = _options.CoarseSearch,
            CoarseConnectivity = _options.CoarseConnectivity,
            CoarseEfSearch = _options.CoarseEfSearch,
        };
        int ksub = index.Quantizer.CentroidsPerSubquantizer;
        _options.CheckRowCount(data.Count, _options.NumberOfLists, "NumberOfLists");
        _options.CheckRowCount(data.Count, ksub, "ksub, the centroids per subquantizer,",
            "Provide more rows, or use IVF-Flat (or exact search) for a collection this small.");

        int seed = TrainingSamples.ResolveSeed(_context, _options.Seed, nameof(IvfPqIndexingEstimator));
        float[] sample = TrainingSamples.Draw(data.Vectors, data.Count, data.Dimension, _options.TrainingSampleSize, seed, out _);
        _options.Progress?.Report(new IndexingProgress("train", 0, data.Count));
        index.Train(sample, QuantizerSettings.KMeans(seed, _options.NumberOfThreads, _options.CancellationToken));

        _options.Progress?.Report(new IndexingProgress("index", 0, data.Count));
        if (data.Ids is null)
            index.Add(data.Vectors, _options.CancellationToken);
        else
            index.Add(data.Vectors, data.Ids, _options.CancellationToken);
        _options.Progress?.Report(new IndexingProgress("index", data.Count, data.Count));

        var state = new SearchState(new IvfPqIndexAdapter(index, data.Ids, _options.RerankCount), _options.NumberOfNeighbors, _options.ExcludeSelf, data.Labels);
        return new NeighborSearchingTransformer(_context, state, _options);
    }

    /// <summary>Checks the input columns and returns the schema with the added neighbor columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => NeighborOutputSchema.Create(_context, inputSchema, _options);
}
