using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Trains a product quantizer on a vector column and returns a <see cref="ProductQuantizingTransformer"/>
/// that replaces each vector by its code: a known-size vector of M bytes.
/// </summary>
/// <remarks>
/// <para>
/// Product quantization (Jégou, Douze and Schmid, "Product quantization for nearest neighbor
/// search", IEEE TPAMI 33(1), 2011) splits a d-dimensional vector x into M subvectors
/// \(x_1, \dots, x_M\) of dsub = d / M values and encodes each by the index of its nearest centroid in
/// that subspace's codebook of ksub = 2^nbits centroids: \(q(x) = (\arg\min_c \lVert x_j - C_{j,c} \rVert_2^2)_{j=1..M}\).
/// The codebooks are trained with one k-means per subspace. A code takes M bytes at nbits = 8,
/// against 4d bytes for the floats; <see cref="RetrievalCatalog.DecodeProductCodes(string, string, ProductQuantizer)"/>
/// maps codes back to the concatenated centroids.
/// </para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>Yes: k-means per subspace on a sample of the input column.</description></item>
/// <item><term>Input column</term><description>A vector of Single whose length d is a multiple of M (known-size, or variable-size with equal lengths).</description></item>
/// <item><term>Output column</term><description>A known-size vector of Byte, M values.</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains the codebooks.</description></item>
/// </list>
/// </remarks>
/// <seealso cref="RetrievalCatalog.QuantizeProduct(string, string?, int)"/>
public sealed class ProductQuantizingEstimator : IEstimator<ProductQuantizingTransformer>
{
    private readonly MLContext _context;
    private readonly Options _options;

    /// <summary>Settings of <see cref="ProductQuantizingEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>Default values of <see cref="Options"/>.</summary>
        public static class Defaults
        {
            /// <summary>Default number of subquantizers M: 8, so each code has 8 bytes.</summary>
            public const int NumberOfSubquantizers = 8;

            /// <summary>Default bits per sub-code nbits: 8 (ksub = 256), the only supported value.</summary>
            public const int BitsPerSubquantizer = 8;

            /// <summary>Default number of rows that k-means trains on: 65536, which is 256 points per centroid at ksub = 256.</summary>
            public const int TrainingSampleSize = TrainedIndexOptions.Defaults.TrainingSampleSize;
        }

        /// <summary>Name of the added code column (known-size vector of Byte, M values).</summary>
        public string OutputColumnName { get; set; } = "Code";

        /// <summary>Name of the vector column to encode; null uses <see cref="OutputColumnName"/>.</summary>
        public string? InputColumnName { get; set; }

        /// <summary>Number of subquantizers M: subspaces per vector and bytes per code. The dimension d must be a multiple of M.</summary>
        public int NumberOfSubquantizers { get; set; } = Defaults.NumberOfSubquantizers;

        /// <summary>Bits per sub-code nbits; ksub = 2^nbits centroids per subspace. Only 8 is supported.</summary>
        public int BitsPerSubquantizer { get; set; } = Defaults.BitsPerSubquantizer;

        /// <summary>Rows drawn at random (seeded by <see cref="Seed"/>) to train k-means on; 0 trains on every row; else at least ksub.</summary>
        public int TrainingSampleSize { get; set; } = Defaults.TrainingSampleSize;

        /// <summary>Seed of the training sample and of k-means; null draws one from the <see cref="MLContext"/>'s random source.</summary>
        public int? Seed { get; set; }

        /// <summary>Worker threads for training; 0 uses every core.</summary>
        public int NumberOfThreads { get; set; }

        /// <summary>Stops fitting early with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken { get; set; }

        internal string EffectiveInputColumnName => InputColumnName ?? OutputColumnName;

        internal void Validate()
        {
            if (string.IsNullOrWhiteSpace(OutputColumnName))
                throw new ArgumentException($"OutputColumnName must name a column; got '{OutputColumnName}'.", nameof(OutputColumnName));
            if (InputColumnName is not null && string.IsNullOrWhiteSpace(InputColumnName))
                throw new ArgumentException($"InputColumnName must name a column or be null; got '{InputColumnName}'.", nameof(InputColumnName));
            if (NumberOfThreads < 0)
                throw new ArgumentOutOfRangeException(nameof(NumberOfThreads), NumberOfThreads, "NumberOfThreads must be 0 (every core) or positive.");
            QuantizerSettings.Check(NumberOfSubquantizers, BitsPerSubquantizer, TrainingSampleSize);
        }
    }

    internal ProductQuantizingEstimator(MLContext context, Options options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        _options = options;
    }

    /// <summary>Reads the input column, trains the codebooks and returns the encoding transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or is not a vector of Single.</exception>
    /// <exception cref="ArgumentException">The dimension is not a multiple of M.</exception>
    /// <exception cref="InvalidOperationException">The input has fewer rows than ksub = 256.</exception>
    /// <exception cref="InvalidDataException">A row has a NaN or infinite value or a different length.</exception>
    public ProductQuantizingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var readOptions = new NeighborSearchOptions { FeatureColumnName = _options.EffectiveInputColumnName, CancellationToken = _options.CancellationToken };
        CollectionData data = CollectionReader.Read(input, readOptions);

        var quantizer = new ProductQuantizer(data.Dimension, _options.NumberOfSubquantizers, _options.BitsPerSubquantizer);
        int ksub = quantizer.CentroidsPerSubquantizer;
        if (data.Count < ksub)
            throw new InvalidOperationException($"PQ training needs at least ksub = {ksub} rows (2^{_options.BitsPerSubquantizer} centroids per subspace), got {data.Count}. Train on more rows.");

        int seed = TrainingSamples.ResolveSeed(_context, _options.Seed, nameof(ProductQuantizingEstimator));
        float[] sample = TrainingSamples.Draw(data.Vectors, data.Count, data.Dimension, _options.TrainingSampleSize, seed, out int sampled);
        quantizer.Train(sample, sampled, QuantizerSettings.KMeans(seed, _options.NumberOfThreads, _options.CancellationToken));
        return new ProductQuantizingTransformer(_context, quantizer, _options.OutputColumnName, _options.EffectiveInputColumnName);
    }

    /// <summary>Checks the input column and returns the schema with the added code column.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or is not a vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFeatureColumn(inputSchema, _options.EffectiveInputColumnName, "input");
        IEstimator<ITransformer> chain = QuantizerChain.Encoder(_context, _options.OutputColumnName, _options.EffectiveInputColumnName,
            new[] { string.Empty }, new RowQuantizer(), _options.NumberOfSubquantizers);
        return chain.GetOutputSchema(inputSchema);
    }
}

/// <summary>
/// Replaces each vector of a column by its product-quantization code, a known-size vector of M bytes.
/// Fitted by <see cref="ProductQuantizingEstimator"/>.
/// </summary>
/// <remarks>
/// <para>
/// Like <see cref="NeighborSearchingTransformer"/>, this transformer is a shell around standard ML.NET
/// transformers (a column copy, custom mappings with the contracts <c>MLNetRetrieval.PqEncodeKey.v1</c>
/// and <c>MLNetRetrieval.PqEncode.v1</c>, a value mapping that stores the quantizer as Base64 text,
/// a copy and a drop), so <c>MLContext.Model.Save</c> and <c>Load</c> round-trip it with no extra loader.
/// </para>
/// <para>
/// NOTE: ML.NET 6.0.0 does not save a custom mapping's output schema definition, so in a model
/// loaded from a zip the code column is a variable-size vector of Byte. Every row still contains
/// exactly M values, identical to the fitted model's.
/// </para>
/// </remarks>
public sealed class ProductQuantizingTransformer : ITransformer
{
    private readonly ITransformer _chain;

    internal ProductQuantizingTransformer(MLContext context, ProductQuantizer quantizer, string outputColumnName, string inputColumnName)
    {
        Quantizer = quantizer;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        string[] chunks = TextPayload.Encode(RowQuantizer.Serialize(quantizer));
        var coder = new RowQuantizer(chunks[0], quantizer);
        IEstimator<ITransformer> chain = QuantizerChain.Encoder(context, outputColumnName, inputColumnName, chunks, coder, quantizer.CodeSize);
        _chain = chain.Fit(QuantizerChain.EmptyView(context, inputColumnName, NumberDataViewType.Single, quantizer.Dimension));
    }

    /// <summary>The trained quantizer: codebooks of layout (M, ksub, dsub), encode and decode over arrays.</summary>
    public ProductQuantizer Quantizer { get; }

    /// <summary>Name of the vector column that is encoded.</summary>
    public string InputColumnName { get; }

    /// <summary>Name of the added code column.</summary>
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
        DataViewSchema.Column column = SchemaChecks.CheckFeatureColumn(schema, InputColumnName, "input");
        int size = (column.Type as VectorDataViewType)?.Size ?? 0;
        if (size != 0 && size != Quantizer.Dimension)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The input column '{column.Name}' has vectors of size {size}, but the quantizer was trained on size {Quantizer.Dimension}. Feed vectors of the trained size.");
    }
}

/// <summary>Builds the standard ML.NET chains of the PQ encode and decode transformers.</summary>
internal static class QuantizerChain
{
    public static IEstimator<ITransformer> Encoder(MLContext context, string outputColumnName, string inputColumnName,
        string[] chunks, RowQuantizer coder, int codeSize)
    {
        SchemaDefinition output = SchemaDefinition.Create(typeof(PqEncodeOutput));
        output[PqColumns.Output].ColumnType = new VectorDataViewType(NumberDataViewType.Byte, codeSize);
        TransformsCatalog transforms = context.Transforms;
        return transforms.CopyColumns(PqColumns.Input, inputColumnName)
            .Append(transforms.CustomMapping(new PqEncodeKeyMappingFactory().GetMapping(), PqEncodeKeyMappingFactory.ContractName))
            .Append(StoreState(context, chunks))
            .Append(transforms.CustomMapping<PqEncodeInput, PqEncodeOutput>(coder.Encode, PqEncodeMappingFactory.ContractName, outputSchemaDefinition: output))
            .Append(transforms.CopyColumns(outputColumnName, PqColumns.Output))
            .Append(transforms.DropColumns(PqColumns.Input, PqColumns.StateKey, PqColumns.State, PqColumns.Output));
    }

    public static IEstimator<ITransformer> Decoder(MLContext context, string outputColumnName, string inputColumnName,
        string[] chunks, RowQuantizer coder, int dimension)
    {
        SchemaDefinition output = SchemaDefinition.Create(typeof(PqDecodeOutput));
        output[PqColumns.Output].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        TransformsCatalog transforms = context.Transforms;
        return transforms.CopyColumns(PqColumns.Input, inputColumnName)
            .Append(transforms.CustomMapping(new PqDecodeKeyMappingFactory().GetMapping(), PqDecodeKeyMappingFactory.ContractName))
            .Append(StoreState(context, chunks))
            .Append(transforms.CustomMapping<PqDecodeInput, PqDecodeOutput>(coder.Decode, PqDecodeMappingFactory.ContractName, outputSchemaDefinition: output))
            .Append(transforms.CopyColumns(outputColumnName, PqColumns.Output))
            .Append(transforms.DropColumns(PqColumns.Input, PqColumns.StateKey, PqColumns.State, PqColumns.Output));
    }

    /// <summary>An empty view with one known-size vector column; the chain's transforms only learn column types from it.</summary>
    public static IDataView EmptyView(MLContext context, string columnName, PrimitiveDataViewType itemType, int size)
    {
        if (itemType == NumberDataViewType.Byte)
        {
            SchemaDefinition bytes = SchemaDefinition.Create(typeof(ByteRow));
            // The indexer finds columns by name, so set the type before renaming.
            bytes[nameof(ByteRow.Values)].ColumnType = new VectorDataViewType(NumberDataViewType.Byte, size);
            bytes[nameof(ByteRow.Values)].ColumnName = columnName;
            return context.Data.LoadFromEnumerable(Array.Empty<ByteRow>(), bytes);
        }

        SchemaDefinition floats = SchemaDefinition.Create(typeof(FloatRow));
        floats[nameof(FloatRow.Values)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        floats[nameof(FloatRow.Values)].ColumnName = columnName;
        return context.Data.LoadFromEnumerable(Array.Empty<FloatRow>(), floats);
    }

    private static IEstimator<ITransformer> StoreState(MLContext context, string[] chunks) =>
        context.Transforms.Conversion.MapValue(
            PqColumns.State,
            new[] { new KeyValuePair<string, string[]>(PqColumns.StateKeyValue, chunks) },
            PqColumns.StateKey);

    private sealed class FloatRow
    {
        public float[] Values = [];
    }

    private sealed class ByteRow
    {
        public byte[] Values = [];
    }
}
