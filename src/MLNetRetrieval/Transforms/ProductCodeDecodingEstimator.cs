using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Maps product-quantization codes back to vectors with a trained <see cref="ProductQuantizer"/>:
/// each sub-code j is replaced by centroid \(C_{j, q_j}\), and the M centroids are concatenated
/// (Jégou, Douze and Schmid, "Product quantization for nearest neighbor search", IEEE TPAMI 33(1), 2011).
/// </summary>
/// <remarks>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Trains on data</term><description>No: the quantizer comes trained, usually from <see cref="ProductQuantizingTransformer.Quantizer"/>.</description></item>
/// <item><term>Input column</term><description>A vector of Byte with M values (known-size, or variable-size with M values per row).</description></item>
/// <item><term>Output column</term><description>A known-size vector of Single, d values.</description></item>
/// <item><term>Saves in a model zip</term><description>Yes, as standard ML.NET transformers; the zip contains the codebooks.</description></item>
/// </list>
/// </remarks>
/// <seealso cref="RetrievalCatalog.DecodeProductCodes(string, string, ProductQuantizer)"/>
public sealed class ProductCodeDecodingEstimator : IEstimator<ProductCodeDecodingTransformer>
{
    private readonly MLContext _context;
    private readonly ProductQuantizer _quantizer;
    private readonly string _outputColumnName;
    private readonly string _inputColumnName;

    internal ProductCodeDecodingEstimator(MLContext context, string outputColumnName, string inputColumnName, ProductQuantizer quantizer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(quantizer);
        if (string.IsNullOrWhiteSpace(outputColumnName))
            throw new ArgumentException($"The output column name must name a column; got '{outputColumnName}'.", nameof(outputColumnName));
        if (string.IsNullOrWhiteSpace(inputColumnName))
            throw new ArgumentException($"The input column name must name a column; got '{inputColumnName}'.", nameof(inputColumnName));
        if (!quantizer.IsTrained)
            throw new ArgumentException("The product quantizer is not trained; pass the Quantizer of a fitted ProductQuantizingTransformer or call Train first.", nameof(quantizer));
        _context = context;
        _quantizer = quantizer;
        _outputColumnName = outputColumnName;
        _inputColumnName = inputColumnName;
    }

    /// <summary>Checks the input column and returns the decoding transformer; the data itself is not read.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing, is not a vector of Byte, or has a known size other than M.</exception>
    public ProductCodeDecodingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var transformer = new ProductCodeDecodingTransformer(_context, _quantizer, _outputColumnName, _inputColumnName);
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    /// <summary>Checks the input column and returns the schema with the added vector column.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or is not a vector of Byte.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column column = inputSchema.FirstOrDefault(c => c.Name == _inputColumnName);
        if (column.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input data has no column '{_inputColumnName}' (vector of Byte). Its columns are: {string.Join(", ", inputSchema.Select(c => c.Name))}.");
        if (column.Kind == SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Byte)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input column '{_inputColumnName}' has item type {column.ItemType} ({column.Kind}); expected a vector of Byte with M = {_quantizer.CodeSize} values.");
        IEstimator<ITransformer> chain = QuantizerChain.Decoder(_context, _outputColumnName, _inputColumnName,
            new[] { string.Empty }, new RowQuantizer(), _quantizer.Dimension);
        return chain.GetOutputSchema(inputSchema);
    }
}

/// <summary>
/// Replaces each product-quantization code of a column by its reconstructed vector (known-size
/// vector of Single, d values). Fitted by <see cref="ProductCodeDecodingEstimator"/>.
/// </summary>
/// <remarks>
/// A shell around standard ML.NET transformers with the contracts <c>MLNetRetrieval.PqDecodeKey.v1</c>
/// and <c>MLNetRetrieval.PqDecode.v1</c>; <c>MLContext.Model.Save</c> and <c>Load</c> round-trip it.
/// NOTE: in a model loaded from a zip the output column is a variable-size vector of Single (d values
/// per row), because ML.NET 6.0.0 does not save a custom mapping's output schema definition.
/// </remarks>
public sealed class ProductCodeDecodingTransformer : ITransformer
{
    private readonly ITransformer _chain;

    internal ProductCodeDecodingTransformer(MLContext context, ProductQuantizer quantizer, string outputColumnName, string inputColumnName)
    {
        Quantizer = quantizer;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        string[] chunks = TextPayload.Encode(RowQuantizer.Serialize(quantizer));
        var coder = new RowQuantizer(chunks[0], quantizer);
        IEstimator<ITransformer> chain = QuantizerChain.Decoder(context, outputColumnName, inputColumnName, chunks, coder, quantizer.Dimension);
        _chain = chain.Fit(QuantizerChain.EmptyView(context, inputColumnName, NumberDataViewType.Byte, quantizer.CodeSize));
    }

    /// <summary>The quantizer whose codebooks decode the codes.</summary>
    public ProductQuantizer Quantizer { get; }

    /// <summary>Name of the code column.</summary>
    public string InputColumnName { get; }

    /// <summary>Name of the added vector column.</summary>
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
        DataViewSchema.Column column = schema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input data has no column '{InputColumnName}' (vector of Byte). Its columns are: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (column.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Byte)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The input column '{InputColumnName}' has type {column.Type}; expected a vector of Byte with M = {Quantizer.CodeSize} values.");
        if (vector.Size != 0 && vector.Size != Quantizer.CodeSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The input column '{InputColumnName}' has codes of {vector.Size} bytes, but the quantizer writes M = {Quantizer.CodeSize}. Feed codes made by the same quantizer.");
    }
}
