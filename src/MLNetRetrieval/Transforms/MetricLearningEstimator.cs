using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.MetricLearning;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Trains an embedding head with a metric-learning loss on a feature vector column and a label
/// column, and returns a <see cref="MetricLearningTransformer"/> that adds each row's learned embedding.
/// </summary>
/// <remarks>
/// <para>
/// The head (a linear layer or an MLP, <see cref="MetricTrainerOptions"/>) maps x to
/// \(f(s \cdot x)\), where s is <see cref="Options.InputScale"/>. The loss
/// (<see cref="MetricLossOptions"/>) pulls rows of the same label together and pushes rows of
/// different labels apart, so a nearest-neighbor index over the embeddings retrieves same-label
/// items first. Chain an index estimator after it, such as
/// <c>TrainMetric("Embedding", "Features", "Label").Append(IndexExact("Embedding"))</c>.
/// </para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: mini-batch gradient descent over every row, for the configured epochs.</description></item>
/// <item><term>Input columns</term><description>A vector of Single (known-size, or variable-size with equal lengths); a label of Text, Boolean, a key type or a number type.</description></item>
/// <item><term>Output column</term><description>A known-size vector of Single with the embedding dimension.</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains the head's weights.</description></item>
/// </list>
/// <para>
/// Labels are compared as text (<c>3</c> as Int32 and <c>3</c> as Single are the same class); keys use
/// their KeyValues annotation when present. A missing label (the missing key, a NaN number or empty
/// text) is rejected, because the row would form a class of its own. NOTE: NaN is detected through its
/// text form, so a Text label "NaN" is rejected as well.
/// </para>
/// </remarks>
/// <seealso cref="RetrievalCatalog.TrainMetric(string, string, string, MetricLearningEstimator.Options?)"/>
public sealed class MetricLearningEstimator : IEstimator<MetricLearningTransformer>
{
    private readonly MLContext _context;
    private readonly string _outputColumnName;
    private readonly string _featureColumnName;
    private readonly string _labelColumnName;
    private readonly Options _options;

    /// <summary>Settings of <see cref="MetricLearningEstimator"/> besides the column names.</summary>
    public sealed class Options
    {
        /// <summary>The loss and its hyper-parameters; ArcFace with its defaults unless set.</summary>
        public MetricLossOptions Loss { get; set; } = new();

        /// <summary>Network, optimizer, schedule and seed of the training.</summary>
        public MetricTrainerOptions Trainer { get; set; } = new();

        /// <summary>
        /// Factor s applied to every feature before the head, in training and in the saved model, such
        /// as 1/255 for 8-bit pixel values. 1 by default; must be positive and finite.
        /// </summary>
        public float InputScale { get; set; } = 1f;

        /// <summary>Receives one event per epoch (loss, validation MAP@R); may be null.</summary>
        public IProgress<MetricEpochProgress>? Progress { get; set; }

        /// <summary>Stops fitting early with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken { get; set; }

        internal void Validate()
        {
            ArgumentNullException.ThrowIfNull(Loss, nameof(Loss));
            ArgumentNullException.ThrowIfNull(Trainer, nameof(Trainer));
            Loss.Validate();
            if (!float.IsFinite(InputScale) || InputScale <= 0)
                throw new ArgumentOutOfRangeException(nameof(InputScale), InputScale, "InputScale must be a positive finite number, such as 1 or 1/255 for 8-bit pixels.");
            if (Trainer.EmbeddingDimension < 1)
                throw new ArgumentOutOfRangeException(nameof(Trainer), Trainer.EmbeddingDimension, "Trainer.EmbeddingDimension must be at least 1.");
        }
    }

    internal MetricLearningEstimator(MLContext context, string outputColumnName, string featureColumnName, string labelColumnName, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        CheckColumnName(outputColumnName, nameof(outputColumnName));
        CheckColumnName(featureColumnName, nameof(featureColumnName));
        CheckColumnName(labelColumnName, nameof(labelColumnName));
        options.Validate();
        _context = context;
        _outputColumnName = outputColumnName;
        _featureColumnName = featureColumnName;
        _labelColumnName = labelColumnName;
        _options = options;
    }

    /// <summary>Reads the features and labels, trains the head and returns the embedding transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidDataException">A row has a NaN or infinite feature, a different length or a missing label.</exception>
    /// <exception cref="InvalidOperationException">The data has fewer than two classes.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    public MetricLearningTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var readOptions = new NeighborSearchOptions
        {
            FeatureColumnName = _featureColumnName,
            LabelColumnName = _labelColumnName,
            CancellationToken = _options.CancellationToken,
        };
        CollectionData data = CollectionReader.Read(input, readOptions);
        int[] classes = TrainingLabels.ToClasses(data.Labels!, _labelColumnName, out int classCount);
        if (classCount < 2)
            throw new InvalidOperationException($"The label column '{_labelColumnName}' has {classCount} distinct value(s); metric learning needs at least two classes.");

        // CollectionReader returns a fresh array, so scaling in place changes no caller's data.
        float[] features = data.Vectors;
        if (_options.InputScale != 1f)
            System.Numerics.Tensors.TensorPrimitives.Multiply(features, _options.InputScale, features);
        CheckFinite(features, data.Dimension);

        MetricLoss loss = MetricLossFactory.Create(_options.Loss);
        EmbeddingHead head = MetricTrainer.Train(features, data.Dimension, classes, loss, _options.Trainer, _options.Progress, _options.CancellationToken);
        return new MetricLearningTransformer(_context, new EmbeddingState(head, _options.InputScale), _outputColumnName, _featureColumnName);
    }

    /// <summary>Checks the feature and label columns and returns the schema with the added embedding column.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFeatureColumn(inputSchema, _featureColumnName, "input");
        SchemaChecks.CheckLabelColumn(inputSchema, _labelColumnName, "input");
        IEstimator<ITransformer> chain = EmbeddingChain.Create(_context, _outputColumnName, _featureColumnName,
            new[] { string.Empty }, new RowEmbedder(), _options.Trainer.EmbeddingDimension);
        return chain.GetOutputSchema(inputSchema);
    }

    private static void CheckColumnName(string name, string parameter)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"The column name must not be empty; got '{name}'.", parameter);
    }

    private void CheckFinite(float[] features, int dimension)
    {
        // After scaling, a huge feature can overflow to infinity, which would make every loss NaN.
        for (int i = 0; i < features.Length; i++)
        {
            if (!float.IsFinite(features[i]))
                throw new InvalidDataException($"Row {i / dimension} of column '{_featureColumnName}' has the value {features[i]} at component {i % dimension} after scaling by {_options.InputScale}. Training needs finite features.");
        }
    }
}

/// <summary>
/// Adds a learned embedding column: each row's feature vector mapped through the trained
/// <see cref="EmbeddingHead"/>. Fitted by <see cref="MetricLearningEstimator"/>.
/// </summary>
/// <remarks>
/// <para>
/// Like <see cref="NeighborSearchingTransformer"/>, this transformer is a shell around standard ML.NET
/// transformers (a column copy, custom mappings with the contracts <c>MLNetRetrieval.EmbeddingKey.v1</c>
/// and <c>MLNetRetrieval.Embedding.v1</c>, a value mapping that stores the head as Base64 text, a copy
/// and a drop), so <c>MLContext.Model.Save</c> and <c>Load</c> round-trip it with no extra loader, also
/// when index transformers follow it in the same model.
/// </para>
/// <para>
/// NOTE: ML.NET 6.0.0 does not save a custom mapping's output schema definition, so in a model
/// loaded from a zip the embedding column is a variable-size vector of Single. Every row still
/// contains exactly <see cref="EmbeddingHead.OutputDimension"/> values, identical to the fitted model's.
/// </para>
/// </remarks>
public sealed class MetricLearningTransformer : ITransformer
{
    private readonly ITransformer _chain;

    internal MetricLearningTransformer(MLContext context, EmbeddingState state, string outputColumnName, string featureColumnName)
    {
        Head = state.Head;
        InputScale = state.InputScale;
        OutputColumnName = outputColumnName;
        FeatureColumnName = featureColumnName;
        string[] chunks = TextPayload.Encode(state.Serialize());
        var embedder = new RowEmbedder(chunks[0], state);
        IEstimator<ITransformer> chain = EmbeddingChain.Create(context, outputColumnName, featureColumnName, chunks, embedder, state.Head.OutputDimension);
        _chain = chain.Fit(QuantizerChain.EmptyView(context, featureColumnName, NumberDataViewType.Single, state.Head.InputDimension));
    }

    /// <summary>The trained head: batch inference over arrays, <see cref="EmbeddingHead.Save"/>.</summary>
    public EmbeddingHead Head { get; }

    /// <summary>Factor applied to every feature before the head.</summary>
    public float InputScale { get; }

    /// <summary>Name of the feature vector column that is embedded.</summary>
    public string FeatureColumnName { get; }

    /// <summary>Name of the added embedding column; it replaces a column of the same name.</summary>
    public string OutputColumnName { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return _chain.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        CheckInput(input.Schema);
        return _chain.Transform(input);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return _chain.GetRowToRowMapper(inputSchema);
    }

    /// <summary>Writes the underlying standard transformer chain, so the model zip needs no MLNetRetrieval loader.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _chain.Save(ctx);

    private void CheckInput(DataViewSchema schema)
    {
        DataViewSchema.Column column = SchemaChecks.CheckFeatureColumn(schema, FeatureColumnName, "input");
        int size = (column.Type as VectorDataViewType)?.Size ?? 0;
        if (size != 0 && size != Head.InputDimension)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The input column '{column.Name}' has vectors of size {size}, but the embedding head was trained on size {Head.InputDimension}. Feed vectors of the trained size.");
    }
}

/// <summary>Builds the standard ML.NET chain of the learned embedding transformer.</summary>
internal static class EmbeddingChain
{
    public static IEstimator<ITransformer> Create(MLContext context, string outputColumnName, string featureColumnName,
        string[] chunks, RowEmbedder embedder, int embeddingDimension)
    {
        SchemaDefinition output = SchemaDefinition.Create(typeof(EmbeddingOutput));
        output[EmbeddingColumns.Output].ColumnType = new VectorDataViewType(NumberDataViewType.Single, embeddingDimension);
        TransformsCatalog transforms = context.Transforms;
        return transforms.CopyColumns(EmbeddingColumns.Input, featureColumnName)
            .Append(transforms.CustomMapping(new EmbeddingKeyMappingFactory().GetMapping(), EmbeddingKeyMappingFactory.ContractName))
            .Append(transforms.Conversion.MapValue(
                EmbeddingColumns.State,
                new[] { new KeyValuePair<string, string[]>(EmbeddingColumns.StateKeyValue, chunks) },
                EmbeddingColumns.StateKey))
            .Append(transforms.CustomMapping<EmbeddingInput, EmbeddingOutput>(embedder.Embed, EmbeddingMappingFactory.ContractName, outputSchemaDefinition: output))
            .Append(transforms.CopyColumns(outputColumnName, EmbeddingColumns.Output))
            .Append(transforms.DropColumns(EmbeddingColumns.Input, EmbeddingColumns.StateKey, EmbeddingColumns.State, EmbeddingColumns.Output));
    }
}

/// <summary>Turns label text into dense class numbers for the trainer.</summary>
internal static class TrainingLabels
{
    /// <summary>Numbers the distinct labels 0, 1, ... in order of first appearance.</summary>
    /// <exception cref="InvalidDataException">A label is missing: empty text (also the missing key) or NaN.</exception>
    public static int[] ToClasses(string[] labels, string columnName, out int classCount)
    {
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        var classes = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i];
            if (label.Length == 0 || label == "NaN")
                throw new InvalidDataException($"Row {i} of the label column '{columnName}' has a missing label ('{label}'). Remove the row or give it a label.");
            if (!numbers.TryGetValue(label, out int number))
            {
                number = numbers.Count;
                numbers.Add(label, number);
            }

            classes[i] = number;
        }

        classCount = numbers.Count;
        return classes;
    }
}
