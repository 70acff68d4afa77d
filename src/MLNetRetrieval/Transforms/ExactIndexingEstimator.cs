using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Fits an exact (brute-force) k-nearest-neighbor index over a collection and returns a
/// <see cref="NeighborSearchingTransformer"/> that adds each query's neighbors.
/// </summary>
/// <remarks>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: it stores every collection vector.</description></item>
/// <item><term>Input columns</term><description>A vector of Single (known-size, or variable-size with equal lengths); optional integer id and label columns.</description></item>
/// <item><term>Output columns</term><description>Neighbor ids (vector of Int64), distances (vector of Single), neighbor labels (vector of Text, with labels).</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers.</description></item>
/// </list>
/// <para>
/// Distances, smaller is closer for every metric: squared Euclidean
/// \(d(x, y) = \lVert x - y \rVert_2^2\), cosine \(d(x, y) = 1 - \frac{x \cdot y}{\lVert x \rVert \lVert y \rVert}\)
/// and inner product \(d(x, y) = -x \cdot y\). Equal distances rank the lower id first.
/// </para>
/// </remarks>
/// <seealso cref="RetrievalCatalog.IndexExact(string, int, DistanceMetric, string?, string?)"/>
public sealed class ExactIndexingEstimator : IEstimator<NeighborSearchingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="ExactIndexingEstimator"/>.</summary>
    public sealed class Options : NeighborSearchOptions
    {
        /// <summary>Distance between vectors; <see cref="DistanceMetric.SquaredEuclidean"/> by default.</summary>
        public DistanceMetric Metric { get; set; } = DistanceMetric.SquaredEuclidean;
    }

    internal ExactIndexingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!Enum.IsDefined(options.Metric))
            throw new ArgumentOutOfRangeException(nameof(options), options.Metric, $"Unknown metric. Use one of: {string.Join(", ", Enum.GetNames<DistanceMetric>())}.");
        _context = context;
        _options = options;
    }

    /// <summary>Reads the collection, builds the exact index and returns the searching transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidDataException">A row has a bad value (NaN, wrong length, negative or duplicate id).</exception>
    public NeighborSearchingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CollectionData data = CollectionReader.Read(input, _options);
        _options.CancellationToken.ThrowIfCancellationRequested();

        var index = new ExactIndex(data.Dimension, _options.Metric);
        _options.Progress?.Report(new IndexingProgress("index", 0, data.Count));
        if (data.Ids is null)
            index.Add(data.Vectors);
        else
            index.Add(data.Vectors, data.Ids);
        _options.Progress?.Report(new IndexingProgress("index", data.Count, data.Count));

        var state = new SearchState(new ExactIndexAdapter(index), _options.NumberOfNeighbors, _options.ExcludeSelf, data.Labels);
        return new NeighborSearchingTransformer(_context, state, _options);
    }

    /// <summary>Checks the input columns and returns the schema with the added neighbor columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => NeighborOutputSchema.Create(_context, inputSchema, _options);
}

/// <summary>Computes the output <see cref="SchemaShape"/> of every index estimator.</summary>
internal static class NeighborOutputSchema
{
    public static SchemaShape Create(MLContext context, SchemaShape input, NeighborSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        SchemaChecks.CheckFeatureColumn(input, options.FeatureColumnName, "input");
        if (options.IdColumnName is not null)
            SchemaChecks.CheckIdColumn(input, options.IdColumnName, "input");
        if (options.LabelColumnName is not null)
            SchemaChecks.CheckLabelColumn(input, options.LabelColumnName, "input");
        if (options.EffectiveQueryIdColumnName is { } queryId)
            SchemaChecks.CheckIdColumn(input, queryId, "query");

        // SchemaShape.Column has no public constructor, so let the standard chain that scores the
        // queries compute the shape, with a placeholder state that is never decoded.
        IEstimator<ITransformer> pipeline = NeighborSearchingTransformer.BuildPipeline(
            context, options, new[] { string.Empty }, new RowSearcher(), options.LabelColumnName is not null);
        return pipeline.GetOutputSchema(input);
    }
}
