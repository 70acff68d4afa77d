using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Fits an exhaustive product-quantization index (FAISS <c>IndexPQ</c>) over a collection and returns a
/// <see cref="NeighborSearchingTransformer"/> that adds each query's approximate neighbors.
/// </summary>
/// <remarks>
/// <para>
/// Product quantization (Jégou, Douze and Schmid, "Product quantization for nearest neighbor
/// search", IEEE TPAMI 33(1), 2011) splits each d-dimensional vector into M subvectors of d / M
/// values and stores, per subvector, the index of the nearest of ksub = 2^nbits centroids. A vector
/// costs M bytes (nbits = 8) instead of 4d. A search compares the exact query with every code by
/// asymmetric distance: \(\tilde d(x, y) = \sum_{j=1}^{M} \lVert x_j - c_j(y_j) \rVert_2^2\), the squared
/// Euclidean distance to the decoded vector, read from M × ksub tabulated sub-distances.
/// </para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: k-means codebooks per subspace on a sample of the collection, then every row is encoded.</description></item>
/// <item><term>Input columns</term><description>A vector of Single whose length is a multiple of M; optional integer id and label columns.</description></item>
/// <item><term>Output columns</term><description>Neighbor ids (vector of Int64), approximate squared Euclidean distances (vector of Single), neighbor labels (vector of Text, with labels).</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains codebooks and codes, not the vectors.</description></item>
/// </list>
/// <para>
/// The distance is always squared Euclidean. For cosine similarity, normalize the vectors first
/// (<c>NormalizeLpNorm</c>): on unit vectors the ranking is the same.
/// </para>
/// </remarks>
/// <seealso cref="RetrievalCatalog.IndexPq(string, int, int, string?, string?)"/>
public sealed class PqIndexingEstimator : IEstimator<NeighborSearchingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="PqIndexingEstimator"/>.</summary>
    public sealed class Options : TrainedIndexOptions
    {
        /// <summary>Default values of <see cref="Options"/>.</summary>
        public new static class Defaults
        {
            /// <summary>Default number of subquantizers M: 8, so each vector is stored in 8 bytes.</summary>
            public const int NumberOfSubquantizers = 8;

            /// <summary>Default bits per sub-code nbits: 8 (ksub = 256 centroids per subspace), the only supported value.</summary>
            public const int BitsPerSubquantizer = 8;
        }

        /// <summary>Number of subquantizers M: subspaces per vector and bytes per code. The dimension must be a multiple of M.</summary>
        public int NumberOfSubquantizers { get; set; } = Defaults.NumberOfSubquantizers;

        /// <summary>Bits per sub-code nbits; ksub = 2^nbits centroids per subspace. Only 8 is supported.</summary>
        public int BitsPerSubquantizer { get; set; } = Defaults.BitsPerSubquantizer;

        internal new void Validate()
        {
            base.Validate();
            QuantizerSettings.Check(NumberOfSubquantizers, BitsPerSubquantizer, TrainingSampleSize);
        }
    }

    internal PqIndexingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Reads the collection, trains the codebooks, encodes every row and returns the searching transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="ArgumentException">The dimension is not a multiple of <see cref="Options.NumberOfSubquantizers"/>.</exception>
    /// <exception cref="InvalidOperationException">The collection has fewer rows than ksub = 256.</exception>
    /// <exception cref="InvalidDataException">A row has a bad value (NaN, wrong length, negative or duplicate id).</exception>
    public NeighborSearchingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CollectionData data = CollectionReader.Read(input, _options);
        _options.CancellationToken.ThrowIfCancellationRequested();

        var index = new PqIndex(data.Dimension, _options.NumberOfSubquantizers, _options.BitsPerSubquantizer);
        int ksub = index.Quantizer.CentroidsPerSubquantizer;
        if (data.Count < ksub)
            throw new InvalidOperationException($"PQ training needs at least ksub = {ksub} collection rows (2^{_options.BitsPerSubquantizer} centroids per subspace), got {data.Count}. Index more rows or use IndexExact.");

        int seed = TrainingSamples.ResolveSeed(_context, _options.Seed, nameof(PqIndexingEstimator));
        float[] sample = TrainingSamples.Draw(data.Vectors, data.Count, data.Dimension, _options.TrainingSampleSize, seed, out _);
        _options.Progress?.Report(new IndexingProgress("train", 0, data.Count));
        index.Train(sample, QuantizerSettings.KMeans(seed, _options.NumberOfThreads, _options.CancellationToken));

        _options.Progress?.Report(new IndexingProgress("index", 0, data.Count));
        if (data.Ids is null)
            index.Add(data.Vectors);
        else
            index.Add(data.Vectors, data.Ids);
        _options.Progress?.Report(new IndexingProgress("index", data.Count, data.Count));

        var state = new SearchState(new PqIndexAdapter(index), _options.NumberOfNeighbors, _options.ExcludeSelf, data.Labels);
        return new NeighborSearchingTransformer(_context, state, _options);
    }

    /// <summary>Checks the input columns and returns the schema with the added neighbor columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => NeighborOutputSchema.Create(_context, inputSchema, _options);
}

/// <summary>Checks and k-means settings shared by the PQ estimators.</summary>
internal static class QuantizerSettings
{
    public static void Check(int numberOfSubquantizers, int bitsPerSubquantizer, int trainingSampleSize)
    {
        if (numberOfSubquantizers < 1)
            throw new ArgumentOutOfRangeException(nameof(numberOfSubquantizers), numberOfSubquantizers, "NumberOfSubquantizers (M) must be at least 1 and divide the vector dimension.");
        if (bitsPerSubquantizer != 8)
            throw new ArgumentOutOfRangeException(nameof(bitsPerSubquantizer), bitsPerSubquantizer, "BitsPerSubquantizer (nbits) must be 8; other code widths are not supported yet.");
        int ksub = 1 << bitsPerSubquantizer;
        if (trainingSampleSize is > 0 && trainingSampleSize < ksub)
            throw new ArgumentOutOfRangeException(nameof(trainingSampleSize), trainingSampleSize, $"TrainingSampleSize must be 0 (every row) or at least ksub = {ksub}, the centroids per subspace.");
    }

    public static KMeansOptions KMeans(int seed, int threads, CancellationToken cancellationToken) => new()
    {
        Seed = seed,
        Threads = threads,
        CancellationToken = cancellationToken,
    };
}
