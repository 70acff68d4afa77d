using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Images.Transforms;

/// <summary>
/// Embeds images with an ONNX model: each row's image (a file path, or the encoded file as bytes) becomes
/// a known-size vector of Single, with a text column that gives the reason when the image failed.
/// </summary>
/// <remarks>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>No: fitting loads the model and checks the input column's type only.</description></item>
/// <item><term>Input column</term><description>Text (an image file path) or a vector of Byte (an encoded PNG, JPEG, ... file in memory).</description></item>
/// <item><term>Output columns</term><description>
/// The embedding (known-size vector of Single, <see cref="ImageEmbedder.Dimension"/> values, every value NaN when
/// the image failed) and <c>&lt;output&gt;Failure</c> (Text: the reason, or empty when the image was embedded).
/// </description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains the ONNX model.</description></item>
/// </list>
/// <para>
/// A bad image (missing, unreadable, corrupt, truncated, too large) never stops the pass: its row gets
/// the NaN vector and the reason. Filter those rows before indexing, for example with
/// <c>FilterRowsByMissingValues</c> on the embedding column.
/// </para>
/// </remarks>
/// <seealso cref="ImageRetrievalCatalog.EmbedImages(RetrievalCatalog, string, string, ImageEmbedderOptions?)"/>
public sealed class ImageEmbeddingEstimator : IEstimator<ImageEmbeddingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="ImageEmbeddingEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>Suffix of the failure column's name, appended to <see cref="OutputColumnName"/>.</summary>
        public const string FailureColumnSuffix = "Failure";

        /// <summary>Name of the added embedding column (known-size vector of Single).</summary>
        public string OutputColumnName { get; set; } = "Embedding";

        /// <summary>Name of the image column: Text (a file path) or a vector of Byte (an encoded image file).</summary>
        public string InputColumnName { get; set; } = "ImagePath";

        /// <summary>Model, preprocessing and threading settings; null for ResNet18 with its own preprocessing.</summary>
        public ImageEmbedderOptions? EmbedderOptions { get; set; }

        /// <summary>Name of the added failure column: <see cref="OutputColumnName"/> followed by "Failure".</summary>
        public string FailureColumnName => OutputColumnName + FailureColumnSuffix;

        internal void Validate()
        {
            if (string.IsNullOrWhiteSpace(OutputColumnName))
                throw new ArgumentException($"OutputColumnName must name a column; got '{OutputColumnName}'.", nameof(OutputColumnName));
            if (string.IsNullOrWhiteSpace(InputColumnName))
                throw new ArgumentException($"InputColumnName must name the image column; got '{InputColumnName}'.", nameof(InputColumnName));
            if (EmbedderOptions is { } embedder)
                ImageEmbeddingValidation.Check(embedder);
        }
    }

    internal ImageEmbeddingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Checks the image column, loads the model and returns the embedding transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is neither Text nor a vector of Byte.</exception>
    public ImageEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool bytes = ImageEmbeddingTransformer.CheckImageColumn(input.Schema, _options.InputColumnName);
        ImageEmbedderOptions embedderOptions = _options.EmbedderOptions ?? new ImageEmbedderOptions();
        var embedder = new ImageEmbedder(embedderOptions);
        try
        {
            return new ImageEmbeddingTransformer(_context, embedder, embedderOptions, _options, bytes);
        }
        catch
        {
            embedder.Dispose();
            throw;
        }
    }

    /// <summary>Checks the image column and returns the schema with the embedding and failure columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is neither Text nor a vector of Byte.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        bool bytes = ImageEmbeddingTransformer.CheckImageColumn(inputSchema, _options.InputColumnName);

        // SchemaShape.Column has no public constructor, so let the standard chain compute the shape with
        // a placeholder state that is never decoded. Every dimension gives the same shape: a known-size vector.
        IEstimator<ITransformer> pipeline = ImageEmbeddingTransformer.BuildPipeline(
            _context, _options.InputColumnName, _options.OutputColumnName, _options.FailureColumnName, bytes, dimension: 1, new[] { string.Empty }, new RowEmbedder());
        return pipeline.GetOutputSchema(inputSchema);
    }
}

/// <summary>
/// Adds the embedding of each row's image and the reason of any failure. Fitted by
/// <see cref="ImageEmbeddingEstimator"/>.
/// </summary>
/// <remarks>
/// <para>
/// The transformer is a thin shell around a chain of standard ML.NET transformers, which is what
/// <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/> writes: a column copy of
/// the image column, a custom mapping that emits a constant key, a value mapping that stores the
/// settings and the ONNX model as chunks of Base64 text under that key, the embedding itself as a custom
/// mapping (contract <c>MLNetRetrieval.Images.EmbedPath.v1</c> or <c>MLNetRetrieval.Images.EmbedBytes.v1</c>)
/// that builds the <see cref="ImageEmbedder"/> once, a concatenation that joins the output pieces into
/// one known-size vector, then column copies and a column drop. A loaded model therefore needs neither
/// a special loader nor the model file it was fitted with;
/// <see cref="ImageRetrievalCatalog.GetImageEmbedder(RetrievalCatalog, ITransformer)"/> recovers the
/// embedder from it.
/// </para>
/// <para>
/// Scoring is lazy and row by row, and works with <c>PredictionEngine</c>. For many files at once,
/// <see cref="ImageEmbedder.EmbedFiles"/> is faster because it overlaps decoding with inference.
/// </para>
/// </remarks>
public sealed class ImageEmbeddingTransformer : ITransformer
{
    private readonly ITransformer _chain;
    private readonly bool _bytesInput;

    internal ImageEmbeddingTransformer(MLContext context, ImageEmbedder embedder, ImageEmbedderOptions embedderOptions,
        ImageEmbeddingEstimator.Options options, bool bytesInput)
    {
        Embedder = embedder;
        InputColumnName = options.InputColumnName;
        OutputColumnName = options.OutputColumnName;
        FailureColumnName = options.FailureColumnName;
        _bytesInput = bytesInput;

        _chain = BuildChain(context, ImageEmbeddingState.FromEmbedder(embedder, embedderOptions), options, bytesInput, embedder);
    }

    /// <summary>The embedder that scores rows; use it directly to embed many files with overlapped decoding.</summary>
    public ImageEmbedder Embedder { get; }

    /// <summary>Name of the image column.</summary>
    public string InputColumnName { get; }

    /// <summary>Name of the added embedding column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Name of the added failure column.</summary>
    public string FailureColumnName { get; }

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
        ArgumentNullException.ThrowIfNull(input);
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

    /// <summary>Fits the standard chain that stores <paramref name="state"/>; without an embedder, the first scored row builds one from the state.</summary>
    internal static ITransformer BuildChain(MLContext context, ImageEmbeddingState state, ImageEmbeddingEstimator.Options options,
        bool bytesInput, ImageEmbedder? embedder)
    {
        if (state.Dimension < 1 || state.Dimension > ImageEmbeddingColumns.MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(state), state.Dimension, $"The model's embeddings have {state.Dimension} values; this transform supports 1 to {ImageEmbeddingColumns.MaxDimension}.");

        string[] chunks = ImageModelPayload.Encode(state.Serialize());
        RowEmbedder rowEmbedder = embedder is null ? new RowEmbedder() : new RowEmbedder(chunks[0], embedder, state.Options.Decoder);
        IEstimator<ITransformer> pipeline = BuildPipeline(context, options.InputColumnName, options.OutputColumnName, options.FailureColumnName,
            bytesInput, state.Dimension, chunks, rowEmbedder);
        return pipeline.Fit(CreateEmptyImageView(context, options.InputColumnName, bytesInput));
    }

    /// <summary>Checks the image column and returns true for a vector of Byte, false for Text.</summary>
    internal static bool CheckImageColumn(DataViewSchema schema, string name)
    {
        ArgumentNullException.ThrowIfNull(schema);
        DataViewSchema.Column column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The image column '{name}' is not in the input; it has: {string.Join(", ", schema.Select(c => c.Name))}.");
        if (column.Type is TextDataViewType)
            return false;
        if (column.Type is VectorDataViewType { ItemType: NumberDataViewType item } && item == NumberDataViewType.Byte)
            return true;
        throw new ArgumentOutOfRangeException(nameof(schema), $"The image column '{name}' has type {column.Type}; expected Text (a file path) or a vector of Byte (an encoded image file).");
    }

    /// <inheritdoc cref="CheckImageColumn(DataViewSchema, string)"/>
    internal static bool CheckImageColumn(SchemaShape shape, string name)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int index = shape.ToList().FindIndex(c => c.Name == name);
        if (index < 0)
            throw new ArgumentOutOfRangeException(nameof(shape), $"The image column '{name}' is not in the input; it has: {string.Join(", ", shape.Select(c => c.Name))}.");
        SchemaShape.Column column = shape[index];
        if (column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType is TextDataViewType)
            return false;
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar && column.ItemType == NumberDataViewType.Byte)
            return true;
        throw new ArgumentOutOfRangeException(nameof(shape), $"The image column '{name}' is a {column.Kind} of {column.ItemType}; expected Text (a file path) or a vector of Byte (an encoded image file).");
    }

    /// <summary>
    /// Builds the standard estimator chain that embeds images. With a placeholder state it also serves
    /// the estimator's <c>GetOutputSchema</c>, since only ML.NET's own estimators can create
    /// <see cref="SchemaShape.Column"/> values.
    /// </summary>
    internal static IEstimator<ITransformer> BuildPipeline(MLContext context, string inputColumnName, string outputColumnName,
        string failureColumnName, bool bytesInput, int dimension, string[] chunks, RowEmbedder embedder)
    {
        TransformsCatalog transforms = context.Transforms;
        IEstimator<ITransformer> pipeline = transforms.CopyColumns(ImageEmbeddingColumns.Image, inputColumnName)
            .Append(transforms.CustomMapping(new ImageModelKeyMappingFactory().GetMapping(), ImageModelKeyMappingFactory.ContractName))
            .Append(transforms.Conversion.MapValue(
                ImageEmbeddingColumns.Model,
                new[] { new KeyValuePair<string, string[]>(ImageEmbeddingColumns.ModelKeyValue, chunks) },
                ImageEmbeddingColumns.ModelKey));

        pipeline = bytesInput
            ? pipeline.Append(transforms.CustomMapping<ImageBytesEmbeddingInput, ImageEmbeddingOutput>(embedder.EmbedBytes, ImageBytesEmbeddingMappingFactory.ContractName))
            : pipeline.Append(transforms.CustomMapping<ImagePathEmbeddingInput, ImageEmbeddingOutput>(embedder.EmbedPath, ImagePathEmbeddingMappingFactory.ContractName));

        string[] pieces = ImageEmbeddingColumns.Pieces(dimension);
        var temporary = new List<string> { ImageEmbeddingColumns.Image, ImageEmbeddingColumns.ModelKey, ImageEmbeddingColumns.Model, ImageEmbeddingColumns.Failure };
        for (int bit = 0; bit < ImageEmbeddingColumns.PieceCount; bit++)
            temporary.Add(ImageEmbeddingColumns.Piece(bit));

        return pipeline
            .Append(transforms.Concatenate(outputColumnName, pieces))
            .Append(transforms.CopyColumns(failureColumnName, ImageEmbeddingColumns.Failure))
            .Append(transforms.DropColumns(temporary.ToArray()));
    }

    /// <summary>An empty view with the image column; the chain's transforms only learn column types from it.</summary>
    private static IDataView CreateEmptyImageView(MLContext context, string columnName, bool bytesInput)
    {
        if (bytesInput)
        {
            SchemaDefinition bytes = SchemaDefinition.Create(typeof(BytesRow));
            bytes[nameof(BytesRow.Image)].ColumnName = columnName;
            return context.Data.LoadFromEnumerable(Array.Empty<BytesRow>(), bytes);
        }

        SchemaDefinition paths = SchemaDefinition.Create(typeof(PathRow));
        paths[nameof(PathRow.Image)].ColumnName = columnName;
        return context.Data.LoadFromEnumerable(Array.Empty<PathRow>(), paths);
    }

    private void CheckInput(DataViewSchema schema)
    {
        bool bytes = CheckImageColumn(schema, InputColumnName);
        if (bytes != _bytesInput)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The image column '{InputColumnName}' has type {schema[InputColumnName].Type}, but the transform was fitted on {(_bytesInput ? "a vector of Byte" : "Text")}. Feed the same kind of image column.");
    }

    private sealed class PathRow
    {
        public string Image = string.Empty;
    }

    private sealed class BytesRow
    {
        [VectorType]
        public byte[] Image = [];
    }
}
