using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Adds the k nearest collection items of each query row: neighbor ids (vector of Int64), distances
/// (vector of Single) and, when the collection had labels, neighbor labels (vector of Text).
/// </summary>
/// <remarks>
/// <para>
/// The transformer is a thin shell around a chain of standard ML.NET transformers, which is what
/// <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/> writes: a column copy
/// of the query vector, a custom mapping that emits a constant key, a value mapping that stores the
/// serialized index as chunks of text under that key, the search itself as a custom mapping that
/// decodes the state once and caches it, then column copies and a column drop. A model loaded with
/// <see cref="ModelOperationsCatalog.Load(string, out DataViewSchema)"/> is therefore that standard
/// chain; <see cref="RetrievalCatalog.GetSearchers(ITransformer)"/> recovers the searcher from it.
/// </para>
/// <para>
/// Scoring is lazy and row by row; it works with <c>PredictionEngine</c>. The output vectors are
/// variable-size in the schema and always hold exactly k values.
/// </para>
/// </remarks>
public sealed class NeighborSearchingTransformer : ITransformer
{
    private readonly ITransformer _chain;
    private readonly NeighborSearchOptions _options;

    internal NeighborSearchingTransformer(MLContext context, SearchState state, NeighborSearchOptions options)
    {
        _options = options;
        Searcher = new NeighborSearcher(state);
        _chain = BuildChain(context, state, options);
    }

    /// <summary>Direct access to the fitted search: batch search over arrays, labels and label counts.</summary>
    public NeighborSearcher Searcher { get; }

    /// <summary>Name of the query vector column.</summary>
    public string FeatureColumnName => _options.FeatureColumnName;

    /// <summary>Name of the query id column used to leave self matches out, or null.</summary>
    public string? QueryIdColumnName => _options.EffectiveQueryIdColumnName;

    /// <summary>Name of the added neighbor-id column.</summary>
    public string NeighborIdsColumnName => _options.NeighborIdsColumnName;

    /// <summary>Name of the added distance column.</summary>
    public string DistancesColumnName => _options.DistancesColumnName;

    /// <summary>Name of the added neighbor-label column, or null when the collection had no labels.</summary>
    public string? NeighborLabelsColumnName => Searcher.HasLabels ? _options.NeighborLabelsColumnName : null;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckQuerySchema(inputSchema);
        return _chain.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        CheckQuerySchema(input.Schema);
        return _chain.Transform(input);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        CheckQuerySchema(inputSchema);
        return _chain.GetRowToRowMapper(inputSchema);
    }

    /// <summary>Writes the underlying standard transformer chain, so the model zip needs no MLNetRetrieval loader.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _chain.Save(ctx);

    private void CheckQuerySchema(DataViewSchema schema)
    {
        DataViewSchema.Column feature = SchemaChecks.CheckFeatureColumn(schema, _options.FeatureColumnName, "query");
        int size = (feature.Type as VectorDataViewType)?.Size ?? 0;
        if (size != 0 && size != Searcher.Dimension)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The query column '{feature.Name}' has vectors of size {size}, but the index was built with size {Searcher.Dimension}. Feed query vectors of the indexed size.");
        if (QueryIdColumnName is { } idName)
            SchemaChecks.CheckIdColumn(schema, idName, "query");
    }

    private static ITransformer BuildChain(MLContext context, SearchState state, NeighborSearchOptions options)
    {
        string[] chunks = TextPayload.Encode(state.Serialize());
        var searcher = new RowSearcher(chunks[0], state);
        IEstimator<ITransformer> pipeline = BuildPipeline(context, options, chunks, searcher, state.Labels is not null);
        IDataView empty = CreateEmptyQueryView(context, state.Index.Dimension, options.FeatureColumnName, options.EffectiveQueryIdColumnName);
        return pipeline.Fit(empty);
    }

    /// <summary>
    /// Builds the standard estimator chain that scores queries. With a placeholder state it also
    /// serves the estimators' <c>GetOutputSchema</c>, since only ML.NET's own estimators can create
    /// <see cref="SchemaShape.Column"/> values.
    /// </summary>
    internal static IEstimator<ITransformer> BuildPipeline(MLContext context, NeighborSearchOptions options,
        string[] chunks, RowSearcher searcher, bool hasLabels)
    {
        string? queryIdColumn = options.EffectiveQueryIdColumnName;
        TransformsCatalog transforms = context.Transforms;

        IEstimator<ITransformer> pipeline = transforms.CopyColumns(SearchColumns.Query, options.FeatureColumnName);
        if (queryIdColumn is not null)
            pipeline = pipeline.Append(transforms.Conversion.ConvertType(SearchColumns.QueryId, queryIdColumn, DataKind.Int64));

        pipeline = pipeline
            .Append(transforms.CustomMapping(new StateKeyMappingFactory().GetMapping(), StateKeyMappingFactory.ContractName))
            .Append(transforms.Conversion.MapValue(
                SearchColumns.State,
                new[] { new KeyValuePair<string, string[]>(SearchColumns.StateKeyValue, chunks) },
                SearchColumns.StateKey));

        pipeline = queryIdColumn is null
            ? pipeline.Append(transforms.CustomMapping<NeighborSearchInput, NeighborSearchOutput>(
                (input, output) => searcher.Search(input, -1, output), NeighborSearchMappingFactory.ContractName))
            : pipeline.Append(transforms.CustomMapping<NeighborSearchByIdInput, NeighborSearchOutput>(
                (input, output) => searcher.Search(input, input.QueryId, output), NeighborSearchByIdMappingFactory.ContractName));

        pipeline = pipeline
            .Append(transforms.CopyColumns(options.NeighborIdsColumnName, SearchColumns.NeighborIds))
            .Append(transforms.CopyColumns(options.DistancesColumnName, SearchColumns.Distances));
        if (hasLabels)
            pipeline = pipeline.Append(transforms.CopyColumns(options.NeighborLabelsColumnName, SearchColumns.NeighborLabels));

        var temporary = new List<string> { SearchColumns.Query, SearchColumns.StateKey, SearchColumns.State, SearchColumns.NeighborIds, SearchColumns.Distances, SearchColumns.NeighborLabels };
        if (queryIdColumn is not null)
            temporary.Add(SearchColumns.QueryId);
        return pipeline.Append(transforms.DropColumns(temporary.ToArray()));
    }

    /// <summary>An empty view with the query schema; the chain's transforms only learn column types from it.</summary>
    private static IDataView CreateEmptyQueryView(MLContext context, int dimension, string featureColumn, string? queryIdColumn)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(QuerySchemaRow));
        // The indexer looks columns up by their current name: set the type before renaming.
        definition[nameof(QuerySchemaRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        definition[nameof(QuerySchemaRow.Features)].ColumnName = featureColumn;
        definition[nameof(QuerySchemaRow.QueryId)].ColumnName = queryIdColumn ?? SearchColumns.QueryId;
        return context.Data.LoadFromEnumerable(Array.Empty<QuerySchemaRow>(), definition);
    }

    private sealed class QuerySchemaRow
    {
        public float[] Features = [];

        public long QueryId = 0;
    }
}
