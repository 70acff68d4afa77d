using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>Settings shared by the IVF index estimators: the inverted lists and how many a query scans.</summary>
public abstract class IvfIndexOptions : TrainedIndexOptions
{
    /// <summary>Default values of <see cref="IvfIndexOptions"/>.</summary>
    public new static class Defaults
    {
        /// <summary>Default number of inverted lists nlist: 256. FAISS's guide suggests about 4√n to 16√n for n vectors.</summary>
        public const int NumberOfLists = 256;

        /// <summary>Default number of lists scanned per query nprobe: 8.</summary>
        public const int NumberOfProbes = 8;
    }

    /// <summary>
    /// Number of inverted lists nlist: k-means centroids that partition the collection. The collection
    /// (and the training sample) needs at least this many rows.
    /// </summary>
    public int NumberOfLists { get; set; } = Defaults.NumberOfLists;

    /// <summary>
    /// Lists scanned per query nprobe, in [1, nlist], stored in the model. More probes raise recall
    /// and cost time roughly in proportion; <see cref="NeighborSearcher.NumberOfProbes"/> changes it later.
    /// </summary>
    public int NumberOfProbes { get; set; } = Defaults.NumberOfProbes;

    internal new void Validate()
    {
        base.Validate();
        if (NumberOfLists < 1)
            throw new ArgumentOutOfRangeException(nameof(NumberOfLists), NumberOfLists, "NumberOfLists (nlist) must be at least 1.");
        if (NumberOfProbes < 1 || NumberOfProbes > NumberOfLists)
            throw new ArgumentOutOfRangeException(nameof(NumberOfProbes), NumberOfProbes, $"NumberOfProbes (nprobe) must be in [1, NumberOfLists = {NumberOfLists}].");
        if (TrainingSampleSize is > 0 && TrainingSampleSize < NumberOfLists)
            throw new ArgumentOutOfRangeException(nameof(TrainingSampleSize), TrainingSampleSize, $"TrainingSampleSize must be 0 (every row) or at least NumberOfLists = {NumberOfLists}.");
    }

    /// <summary>Rejects collections with fewer rows than k-means needs.</summary>
    internal void CheckRowCount(int rows, int minimum, string what, string remedy = "Provide more rows or lower NumberOfLists.")
    {
        if (rows < minimum)
            throw new InvalidOperationException($"IVF training needs at least {what} ({minimum}) rows, got {rows}. {remedy}");
    }
}

/// <summary>
/// Fits an inverted-file index with uncompressed vectors (FAISS <c>IndexIVFFlat</c>) and returns a
/// <see cref="NeighborSearchingTransformer"/> that adds each query's approximate neighbors.
/// </summary>
/// <remarks>
/// <para>
/// k-means splits the space into nlist cells (Voronoi cells of the coarse centroids); each vector is
/// stored in the list of its nearest centroid. A query scans the nprobe lists whose centroids are
/// nearest and computes exact squared Euclidean distances \(\lVert x - y \rVert_2^2\) there, so results
/// are exact within the scanned lists, and with nprobe = nlist equal to exact search. The inverted
/// file with coarse quantizer follows Jégou, Douze and Schmid, "Product quantization for nearest
/// neighbor search", IEEE TPAMI 33(1), 2011 (section IV), without the PQ codes.
/// </para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: k-means (nlist centroids) on a sample, then every row is added.</description></item>
/// <item><term>Input columns</term><description>A vector of Single; optional integer id and label columns.</description></item>
/// <item><term>Output columns</term><description>Neighbor ids (vector of Int64), squared Euclidean distances (vector of Single), neighbor labels (vector of Text, with labels).</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains centroids and all vectors.</description></item>
/// </list>
/// </remarks>
/// <seealso cref="RetrievalCatalog.IndexIvfFlat(string, int, int, int, string?, string?)"/>
public sealed class IvfFlatIndexingEstimator : IEstimator<NeighborSearchingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="IvfFlatIndexingEstimator"/>; see <see cref="IvfIndexOptions"/>.</summary>
    public sealed class Options : IvfIndexOptions
    {
    }

    internal IvfFlatIndexingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Reads the collection, trains the coarse centroids, adds every row and returns the searching transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidOperationException">The collection has fewer rows than nlist.</exception>
    /// <exception cref="InvalidDataException">A row has a bad value (NaN, wrong length, negative or duplicate id).</exception>
    public NeighborSearchingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CollectionData data = CollectionReader.Read(input, _options);
        _options.CancellationToken.ThrowIfCancellationRequested();
        _options.CheckRowCount(data.Count, _options.NumberOfLists, "NumberOfLists");

        var index = new IvfFlatIndex(data.Dimension, _options.NumberOfLists) { DefaultNumberOfProbes = _options.NumberOfProbes };
        int seed = TrainingSamples.ResolveSeed(_context, _options.Seed, nameof(IvfFlatIndexingEstimator));
        float[] sample = TrainingSamples.Draw(data.Vectors, data.Count, data.Dimension, _options.TrainingSampleSize, seed, out _);
        _options.Progress?.Report(new IndexingProgress("train", 0, data.Count));
        index.Train(sample, QuantizerSettings.KMeans(seed, _options.NumberOfThreads, _options.CancellationToken));

        _options.Progress?.Report(new IndexingProgress("index", 0, data.Count));
        if (data.Ids is null)
            index.Add(data.Vectors);
        else
            index.Add(data.Vectors, data.Ids);
        _options.Progress?.Report(new IndexingProgress("index", data.Count, data.Count));

        var state = new SearchState(new IvfFlatIndexAdapter(index, data.Ids), _options.NumberOfNeighbors, _options.ExcludeSelf, data.Labels);
        return new NeighborSearchingTransformer(_context, state, _options);
    }

    /// <summary>Checks the input columns and returns the schema with the added neighbor columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => NeighborOutputSchema.Create(_context, inputSchema, _options);
}
