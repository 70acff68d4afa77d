using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval;

/// <summary>Entry point of MLNetRetrieval on an <see cref="MLContext"/>.</summary>
public static class MLContextExtensions
{
    /// <summary>
    /// Returns the retrieval catalog: index estimators, searchers of loaded models and ranking evaluation.
    /// </summary>
    /// <example><code>
    /// var pipeline = ml.Transforms.NormalizeLpNorm("Features")
    ///     .Append(ml.Retrieval().IndexExact("Features", numberOfNeighbors: 10));
    /// </code></example>
    public static RetrievalCatalog Retrieval(this MLContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RetrievalCatalog(context);
    }
}

/// <summary>Retrieval components bound to one <see cref="MLContext"/>.</summary>
public sealed class RetrievalCatalog
{
    internal RetrievalCatalog(MLContext context) => Context = context;

    /// <summary>The context whose environment the components use.</summary>
    public MLContext Context { get; }

    /// <summary>Creates an exact k-nearest-neighbor index estimator.</summary>
    /// <param name="featureColumnName">Vector column (vector of Single) in the collection and in the queries.</param>
    /// <param name="numberOfNeighbors">Neighbors returned per query (k).</param>
    /// <param name="metric">Distance between vectors.</param>
    /// <param name="idColumnName">Optional collection id column (integers ≥ 0); row numbers otherwise.</param>
    /// <param name="labelColumnName">Optional collection label column; adds the neighbor-label column.</param>
    public ExactIndexingEstimator IndexExact(string featureColumnName = NeighborSearchOptions.Defaults.FeatureColumnName,
        int numberOfNeighbors = NeighborSearchOptions.Defaults.NumberOfNeighbors,
        DistanceMetric metric = DistanceMetric.SquaredEuclidean,
        string? idColumnName = null, string? labelColumnName = null) =>
        IndexExact(new ExactIndexingEstimator.Options
        {
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            Metric = metric,
            IdColumnName = idColumnName,
            LabelColumnName = labelColumnName,
        });

    /// <summary>Creates an exact k-nearest-neighbor index estimator with every setting.</summary>
    public ExactIndexingEstimator IndexExact(ExactIndexingEstimator.Options options) => new(Context, options);

    /// <summary>Creates an exhaustive product-quantization (PQ) index estimator: M-byte codes, approximate squared Euclidean distances.</summary>
    /// <param name="featureColumnName">Vector column (vector of Single, length a multiple of M) in the collection and in the queries.</param>
    /// <param name="numberOfNeighbors">Neighbors returned per query (k).</param>
    /// <param name="numberOfSubquantizers">Subquantizers M: bytes per stored vector; must divide the dimension.</param>
    /// <param name="idColumnName">Optional collection id column (integers ≥ 0); row numbers otherwise.</param>
    /// <param name="labelColumnName">Optional collection label column; adds the neighbor-label column.</param>
    public PqIndexingEstimator IndexPq(string featureColumnName = NeighborSearchOptions.Defaults.FeatureColumnName,
        int numberOfNeighbors = NeighborSearchOptions.Defaults.NumberOfNeighbors,
        int numberOfSubquantizers = PqIndexingEstimator.Options.Defaults.NumberOfSubquantizers,
        string? idColumnName = null, string? labelColumnName = null) =>
        IndexPq(new PqIndexingEstimator.Options
        {
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            NumberOfSubquantizers = numberOfSubquantizers,
            IdColumnName = idColumnName,
            LabelColumnName = labelColumnName,
        });

    /// <summary>Creates an exhaustive product-quantization index estimator with every setting.</summary>
    public PqIndexingEstimator IndexPq(PqIndexingEstimator.Options options) => new(Context, options);

    /// <summary>Creates an IVF-Flat index estimator: nlist inverted lists of raw vectors, nprobe of them scanned per query.</summary>
    /// <param name="featureColumnName">Vector column (vector of Single) in the collection and in the queries.</param>
    /// <param name="numberOfNeighbors">Neighbors returned per query (k).</param>
    /// <param name="numberOfLists">Inverted lists nlist; the collection needs at least this many rows.</param>
    /// <param name="numberOfProbes">Lists scanned per query nprobe, in [1, nlist].</param>
    /// <param name="idColumnName">Optional collection id column (integers ≥ 0); row numbers otherwise.</param>
    /// <param name="labelColumnName">Optional collection label column; adds the neighbor-label column.</param>
    public IvfFlatIndexingEstimator IndexIvfFlat(string featureColumnName = NeighborSearchOptions.Defaults.FeatureColumnName,
        int numberOfNeighbors = NeighborSearchOptions.Defaults.NumberOfNeighbors,
        int numberOfLists = IvfIndexOptions.Defaults.NumberOfLists,
        int numberOfProbes = IvfIndexOptions.Defaults.NumberOfProbes,
        string? idColumnName = null, string? labelColumnName = null) =>
        IndexIvfFlat(new IvfFlatIndexingEstimator.Options
        {
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            NumberOfLists = numberOfLists,
            NumberOfProbes = numberOfProbes,
            IdColumnName = idColumnName,
            LabelColumnName = labelColumnName,
        });

    /// <summary>Creates an IVF-Flat index estimator with every setting.</summary>
    public IvfFlatIndexingEstimator IndexIvfFlat(IvfFlatIndexingEstimator.Options options) => new(Context, options);

    /// <summary>
    /// Creates an HNSW graph index estimator: approximate search with any metric, tuned at query time by the
    /// beam width efSearch (<see cref="NeighborSearcher.EfSearch"/>).
    /// </summary>
    /// <param name="featureColumnName">Vector column (vector of Single) in the collection and in the queries.</param>
    /// <param name="numberOfNeighbors">Neighbors returned per query (k).</param>
    /// <param name="metric">Distance between vectors.</param>
    /// <param name="connectivity">Links per node M, in [2, 1024]; layer 0 keeps up to 2M.</param>
    /// <param name="idColumnName">Optional collection id column (integers ≥ 0); row numbers otherwise.</param>
    /// <param name="labelColumnName">Optional collection label column; adds the neighbor-label column.</param>
    public HnswIndexingEstimator IndexHnsw(string featureColumnName = NeighborSearchOptions.Defaults.FeatureColumnName,
        int numberOfNeighbors = NeighborSearchOptions.Defaults.NumberOfNeighbors,
        DistanceMetric metric = DistanceMetric.SquaredEuclidean,
        int connectivity = HnswIndexingEstimator.Options.Defaults.Connectivity,
        string? idColumnName = null, string? labelColumnName = null) =>
        IndexHnsw(new HnswIndexingEstimator.Options
        {
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            Metric = metric,
            Connectivity = connectivity,
            IdColumnName = idColumnName,
            LabelColumnName = labelColumnName,
        });

    /// <summary>Creates an HNSW graph index estimator with every setting.</summary>
    public HnswIndexingEstimator IndexHnsw(HnswIndexingEstimator.Options options) => new(Context, options);

    /// <summary>Creates an IVF-PQ index estimator: nlist inverted lists of M-byte PQ codes, nprobe of them scanned per query.</summary>
    /// <param name="featureColumnName">Vector column (vector of Single, length a multiple of M) in the collection and in the queries.</param>
    /// <param name="numberOfNeighbors">Neighbors returned per query (k).</param>
    /// <param name="numberOfLists">Inverted lists nlist; the collection needs at least max(nlist, 256) rows.</param>
    /// <param name="numberOfProbes">Lists scanned per query nprobe, in [1, nlist].</param>
    /// <param name="numberOfSubquantizers">Subquantizers M: bytes per stored vector; must divide the dimension.</param>
    /// <param name="idColumnName">Optional collection id column (integers ≥ 0); row numbers otherwise.</param>
    /// <param name="labelColumnName">Optional collection label column; adds the neighbor-label column.</param>
    public IvfPqIndexingEstimator IndexIvfPq(string featureColumnName = NeighborSearchOptions.Defaults.FeatureColumnName,
        int numberOfNeighbors = NeighborSearchOptions.Defaults.NumberOfNeighbors,
        int numberOfLists = IvfIndexOptions.Defaults.NumberOfLists,
        int numberOfProbes = IvfIndexOptions.Defaults.NumberOfProbes,
        int numberOfSubquantizers = IvfPqIndexingEstimator.Options.Defaults.NumberOfSubquantizers,
        string? idColumnName = null, string? labelColumnName = null) =>
        IndexIvfPq(new IvfPqIndexingEstimator.Options
        {
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            NumberOfLists = numberOfLists,
            NumberOfProbes = numberOfProbes,
            NumberOfSubquantizers = numberOfSubquantizers,
            IdColumnName = idColumnName,
            LabelColumnName = labelColumnName,
        });

    /// <summary>Creates an IVF-PQ index estimator with every setting.</summary>
    public IvfPqIndexingEstimator IndexIvfPq(IvfPqIndexingEstimator.Options options) => new(Context, options);

    /// <summary>
    /// Creates an estimator that trains a product quantizer on a vector column and encodes it as a
    /// known-size vector of M bytes (Jégou, Douze and Schmid, IEEE TPAMI 2011).
    /// </summary>
    /// <param name="outputColumnName">Added code column (known-size vector of Byte, M values).</param>
    /// <param name="inputColumnName">Vector column to encode (vector of Single, length a multiple of M); null uses <paramref name="outputColumnName"/>.</param>
    /// <param name="numberOfSubquantizers">Subquantizers M: bytes per code; must divide the dimension.</param>
    public ProductQuantizingEstimator QuantizeProduct(string outputColumnName, string? inputColumnName = null,
        int numberOfSubquantizers = ProductQuantizingEstimator.Options.Defaults.NumberOfSubquantizers) =>
        QuantizeProduct(new ProductQuantizingEstimator.Options
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            NumberOfSubquantizers = numberOfSubquantizers,
        });

    /// <summary>Creates a product-quantizing estimator with every setting.</summary>
    public ProductQuantizingEstimator QuantizeProduct(ProductQuantizingEstimator.Options options) => new(Context, options);

    /// <summary>Creates an estimator that maps product-quantization codes back to vectors (the concatenated centroids).</summary>
    /// <param name="outputColumnName">Added vector column (known-size vector of Single, d values).</param>
    /// <param name="inputColumnName">Code column (vector of Byte, M values).</param>
    /// <param name="quantizer">The trained quantizer that made the codes, such as <see cref="ProductQuantizingTransformer.Quantizer"/>.</param>
    public ProductCodeDecodingEstimator DecodeProductCodes(string outputColumnName, string inputColumnName, Quantization.ProductQuantizer quantizer) =>
        new(Context, outputColumnName, inputColumnName, quantizer);

    /// <summary>
    /// Creates an estimator that trains an embedding head with a metric-learning loss (contrastive,
    /// triplet, center, SphereFace, CosFace, ArcFace or normalised softmax) and adds the learned embedding.
    /// </summary>
    /// <param name="outputColumnName">Added embedding column (known-size vector of Single); may equal <paramref name="featureColumnName"/> to replace it.</param>
    /// <param name="featureColumnName">Feature column (vector of Single) to train on and to embed.</param>
    /// <param name="labelColumnName">Class label column (Text, key, Boolean or a number type); rows of equal label are pulled together.</param>
    /// <param name="options">Loss, network and training settings; null uses ArcFace and the defaults of <see cref="MetricLearning.MetricTrainerOptions"/>.</param>
    /// <example><code>
    /// var pipeline = ml.Retrieval().TrainMetric("Embedding", "Features", "Label",
    ///         new MetricLearningEstimator.Options { Loss = { Kind = MetricLossKind.CosFace } })
    ///     .Append(ml.Retrieval().IndexExact("Embedding", numberOfNeighbors: 10));
    /// </code></example>
    public MetricLearningEstimator TrainMetric(string outputColumnName, string featureColumnName = NeighborSearchOptions.Defaults.FeatureColumnName,
        string labelColumnName = "Label", MetricLearningEstimator.Options? options = null) =>
        new(Context, outputColumnName, featureColumnName, labelColumnName, options ?? new MetricLearningEstimator.Options());

    /// <summary>
    /// Computes ranking metrics (Recall@R, precision@k, mAP, MAP@R, per query) over data scored by a
    /// neighbor search, with relevance from labels or from explicit judgments.
    /// </summary>
    /// <param name="scored">Output of the searching transformer (or of a loaded model that contains it).</param>
    /// <param name="searcher">The search that scored the data; supplies the collection's label counts.</param>
    /// <param name="options">Columns and relevance source; see <see cref="RetrievalEvaluationOptions"/>.</param>
    public Evaluation.RankingReport Evaluate(IDataView scored, NeighborSearcher searcher, RetrievalEvaluationOptions? options = null) =>
        RetrievalEvaluation.Evaluate(scored, searcher, options ?? new RetrievalEvaluationOptions());

    /// <summary>
    /// Finds the neighbor searches inside a model, including one loaded from a zip, where they are
    /// standard transformers; returns them in pipeline order.
    /// </summary>
    /// <remarks>
    /// A loaded model stores the serialized index inside a value-mapping transformer. This method
    /// applies each value mapping to a one-row view with the state key, and decodes every state it
    /// finds. Within one process the returned searcher shares its decoded state with the loaded
    /// model's scoring, so search settings changed on it apply to <c>Transform</c> as well.
    /// </remarks>
    public IReadOnlyList<NeighborSearcher> GetSearchers(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var found = new List<NeighborSearcher>();
        Collect(model, found);
        return found;
    }

    /// <summary>
    /// Finds the learned embedding heads inside a model, including one loaded from a zip, where they
    /// are standard transformers; returns them in pipeline order.
    /// </summary>
    /// <remarks>A loaded model stores each head inside a value-mapping transformer; this method decodes every one it finds.</remarks>
    public IReadOnlyList<MetricLearning.EmbeddingHead> GetEmbeddingHeads(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var found = new List<MetricLearning.EmbeddingHead>();
        CollectHeads(model, found);
        return found;
    }

    private void CollectHeads(ITransformer model, List<MetricLearning.EmbeddingHead> found)
    {
        switch (model)
        {
            case MetricLearningTransformer learned:
                found.Add(learned.Head);
                return;
            case IEnumerable<ITransformer> chain:
                foreach (ITransformer inner in chain)
                    CollectHeads(inner, found);
                return;
            case Microsoft.ML.Transforms.ValueMappingTransformer valueMapping:
                IDataView keyView = Context.Data.LoadFromEnumerable(new[] { new EmbeddingKeyOutput { Key = EmbeddingColumns.StateKeyValue.AsMemory() } });
                if (ReadStoredChunks(valueMapping, keyView, EmbeddingColumns.State) is { } chunks)
                {
                    string header = chunks[0].ToString();
                    found.Add(EmbeddingStateCache.GetOrDecode(header, () => EmbeddingState.Deserialize(TextPayload.Decode(chunks))).Head);
                }

                return;
        }
    }

    /// <summary>
    /// Applies a value mapping to <paramref name="keyView"/>, a one-row view with the state key, and
    /// returns the text chunks it maps to in <paramref name="stateColumn"/>, or null when the mapping is of another kind.
    /// </summary>
    private static ReadOnlyMemory<char>[]? ReadStoredChunks(ITransformer valueMapping, IDataView keyView, string stateColumn)
    {
        DataViewSchema output;
        try
        {
            output = valueMapping.GetOutputSchema(keyView.Schema);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A value mapping of some other column: not ours.
            return null;
        }

        if (output.GetColumnOrNull(stateColumn) is not { } column || column.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;

        IDataView mapped = valueMapping.Transform(keyView);
        using DataViewRowCursor cursor = mapped.GetRowCursor(new[] { mapped.Schema[stateColumn] });
        VBuffer<ReadOnlyMemory<char>> chunks = default;
        cursor.MoveNext();
        cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(mapped.Schema[stateColumn])(ref chunks);
        ReadOnlyMemory<char>[] values = chunks.GetValues().ToArray();
        if (values.Length == 0)
            throw new InvalidDataException("The model's stored state column is empty. The model file is damaged or its value mapping was replaced.");
        return values;
    }

    private void Collect(ITransformer model, List<NeighborSearcher> found)
    {
        switch (model)
        {
            case NeighborSearchingTransformer searching:
                found.Add(searching.Searcher);
                return;
            case IEnumerable<ITransformer> chain:
                foreach (ITransformer inner in chain)
                    Collect(inner, found);
                return;
            case Microsoft.ML.Transforms.ValueMappingTransformer valueMapping:
                if (TryReadState(valueMapping) is { } state)
                    found.Add(new NeighborSearcher(state));
                return;
        }
    }

    private SearchState? TryReadState(ITransformer valueMapping)
    {
        IDataView keyView = Context.Data.LoadFromEnumerable(new[] { new StateKeyOutput { Key = SearchColumns.StateKeyValue.AsMemory() } });
        DataViewSchema output;
        try
        {
            output = valueMapping.GetOutputSchema(keyView.Schema);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A value mapping of some other column: not ours.
            return null;
        }

        if (output.GetColumnOrNull(SearchColumns.State) is not { } stateColumn
            || stateColumn.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;

        IDataView mapped = valueMapping.Transform(keyView);
        using DataViewRowCursor cursor = mapped.GetRowCursor(new[] { mapped.Schema[SearchColumns.State] });
        VBuffer<ReadOnlyMemory<char>> chunks = default;
        cursor.MoveNext();
        cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(mapped.Schema[SearchColumns.State])(ref chunks);
        ReadOnlyMemory<char>[] values = chunks.GetValues().ToArray();
        if (values.Length == 0)
            throw new InvalidDataException("The model's retrieval state column is empty. The model file is damaged or its value mapping was replaced.");
        return SearchStateCache.GetOrDecode(values[0], () => SearchState.Deserialize(TextPayload.Decode(values)));
    }
}
