using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Quantization;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>Workout of the PQ encode and decode transforms against <see cref="ProductQuantizer"/>.</summary>
public sealed class ProductQuantizingTests
{
    private const int Dimension = 16;
    private const int Subquantizers = 4;

    private static ProductQuantizingEstimator.Options EncodeOptions(int? seed = 5) => new()
    {
        OutputColumnName = "Code",
        InputColumnName = "Features",
        NumberOfSubquantizers = Subquantizers,
        Seed = seed,
    };

    [Fact]
    public void EncodeMatchesQuantizer()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] rows = CompressedTestData.ClusteredRows(600, Dimension, seed: 1);
        IDataView view = TestData.View(context, rows, Dimension);

        ProductQuantizingTransformer model = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view);
        byte[] codes = model.Transform(view).GetColumn<byte[]>("Code").SelectMany(c => c).ToArray();
        var expected = new byte[rows.Length * Subquantizers];
        model.Quantizer.Encode(CompressedTestData.Flatten(rows), rows.Length, expected);

        Assert.Equal(expected, codes);
    }

    [Fact]
    public void DecodeEqualsQuantizerDecode()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] rows = CompressedTestData.ClusteredRows(600, Dimension, seed: 2);
        IDataView view = TestData.View(context, rows, Dimension);
        ProductQuantizingTransformer encoder = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view);
        IDataView encoded = encoder.Transform(view);

        ProductCodeDecodingTransformer decoder = context.Retrieval().DecodeProductCodes("Decoded", "Code", encoder.Quantizer).Fit(encoded);
        float[] decoded = decoder.Transform(encoded).GetColumn<float[]>("Decoded").SelectMany(v => v).ToArray();
        byte[] codes = encoded.GetColumn<byte[]>("Code").SelectMany(c => c).ToArray();
        var expected = new float[rows.Length * Dimension];
        encoder.Quantizer.Decode(codes, rows.Length, expected);

        Assert.Equal(CompressedTestData.Bits(expected), CompressedTestData.Bits(decoded));
    }

    [Fact]
    public void EncodeSchemasAgree()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension, seed: 3), Dimension);
        ProductQuantizingEstimator estimator = context.Retrieval().QuantizeProduct(EncodeOptions());

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(view.Schema));
        ProductQuantizingTransformer model = estimator.Fit(view);
        DataViewSchema fromData = model.Transform(view).Schema;

        Assert.Equal(new[] { "Features", "Id", "Label", "Code" }, shape.Select(c => c.Name));
        Assert.Equal(shape.Select(c => c.Name), fromData.Where(c => !c.IsHidden).Select(c => c.Name));
        Assert.Equal(CompressedTestData.Describe(fromData), CompressedTestData.Describe(model.GetOutputSchema(view.Schema)));
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Byte, Subquantizers), fromData["Code"].Type);
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Code").Kind);
        Assert.Equal(NumberDataViewType.Byte, shape.Single(c => c.Name == "Code").ItemType);
    }

    [Fact]
    public void DecodeSchemasAgree()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension, seed: 4), Dimension);
        IDataView encoded = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view).Transform(view);
        ProductQuantizer quantizer = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view).Quantizer;
        ProductCodeDecodingEstimator estimator = context.Retrieval().DecodeProductCodes("Decoded", "Code", quantizer);

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(encoded.Schema));
        ProductCodeDecodingTransformer model = estimator.Fit(encoded);
        DataViewSchema fromData = model.Transform(encoded).Schema;

        Assert.Equal(shape.Select(c => c.Name), fromData.Where(c => !c.IsHidden).Select(c => c.Name));
        Assert.Equal(CompressedTestData.Describe(fromData), CompressedTestData.Describe(model.GetOutputSchema(encoded.Schema)));
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, Dimension), fromData["Decoded"].Type);
    }

    [Fact]
    public void ZipRoundTripBitIdentical()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] rows = CompressedTestData.ClusteredRows(500, Dimension, seed: 6);
        IDataView view = TestData.View(context, rows, Dimension);
        ProductQuantizingTransformer encoder = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view);
        ITransformer model = encoder.Append(context.Retrieval().DecodeProductCodes("Decoded", "Code", encoder.Quantizer).Fit(encoder.Transform(view)));

        ITransformer loaded = CompressedTestData.SaveAndLoad(context, model, view.Schema, out _);
        IDataView expected = model.Transform(view);
        IDataView actual = loaded.Transform(view);

        Assert.Equal(expected.GetColumn<byte[]>("Code").ToArray(), actual.GetColumn<byte[]>("Code").ToArray());
        Assert.Equal(CompressedTestData.Bits(expected.GetColumn<float[]>("Decoded").SelectMany(v => v)),
            CompressedTestData.Bits(actual.GetColumn<float[]>("Decoded").SelectMany(v => v)));
        // ML.NET 6.0.0 does not save a custom mapping's output schema definition, so the loaded
        // columns are variable-size vectors that hold the same M and d values per row.
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Byte), actual.Schema["Code"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single), actual.Schema["Decoded"].Type);
    }

    [Fact]
    public void ContextSeedReproducesCodebooks()
    {
        ItemRow[] rows = CompressedTestData.ClusteredRows(400, Dimension, seed: 7);

        float[] first = FitCodebooks(new MLContext(seed: 3), rows);
        float[] second = FitCodebooks(new MLContext(seed: 3), rows);
        float[] other = FitCodebooks(new MLContext(seed: 4), rows);

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void MissingInputFailsEverywhere()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension, seed: 8), Dimension);
        var options = EncodeOptions();
        options.InputColumnName = "Pixels";
        ProductQuantizingEstimator estimator = context.Retrieval().QuantizeProduct(options);
        ProductQuantizingTransformer fitted = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view);
        IDataView renamed = context.Transforms.CopyColumns("Other", "Features").Append(context.Transforms.DropColumns("Features")).Fit(view).Transform(view);

        var schemaError = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(TestData.ShapeOf(view.Schema)));
        var fitError = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(view));
        var transformError = Assert.Throws<ArgumentOutOfRangeException>(() => fitted.Transform(renamed));

        Assert.Contains("'Pixels'", schemaError.Message);
        Assert.Contains("'Pixels'", fitError.Message);
        Assert.Contains("'Features'", transformError.Message);
    }

    [Fact]
    public void WrongSizesFailEverywhere()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension, seed: 9), Dimension);
        IDataView wide = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension + 2, seed: 9), Dimension + 2);
        ProductQuantizingTransformer fitted = context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view);
        ProductCodeDecodingEstimator decoder = context.Retrieval().DecodeProductCodes("Decoded", "Features", fitted.Quantizer);

        var indivisible = Assert.Throws<ArgumentException>(() => context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(wide));
        var transformError = Assert.Throws<ArgumentOutOfRangeException>(() => fitted.Transform(wide));
        var decodeShape = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.GetOutputSchema(TestData.ShapeOf(view.Schema)));
        var decodeFit = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Fit(view));

        Assert.Contains("multiple", indivisible.Message);
        Assert.Contains("size 18", transformError.Message);
        Assert.Contains("Byte", decodeShape.Message);
        Assert.Contains("Byte", decodeFit.Message);
    }

    [Fact]
    public void TooFewRowsIsRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(100, Dimension, seed: 10), Dimension);

        var error = Assert.Throws<InvalidOperationException>(() => context.Retrieval().QuantizeProduct(EncodeOptions()).Fit(view));

        Assert.Contains("ksub = 256", error.Message);
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        var context = new MLContext(seed: 1);

        var bits = Assert.Throws<ArgumentOutOfRangeException>(() => context.Retrieval().QuantizeProduct(new ProductQuantizingEstimator.Options { OutputColumnName = "Code", BitsPerSubquantizer = 4 }));
        var sample = Assert.Throws<ArgumentOutOfRangeException>(() => context.Retrieval().QuantizeProduct(new ProductQuantizingEstimator.Options { OutputColumnName = "Code", TrainingSampleSize = 100 }));

        Assert.Equal("bitsPerSubquantizer", bits.ParamName);
        Assert.Equal("trainingSampleSize", sample.ParamName);
    }

    private static float[] FitCodebooks(MLContext context, ItemRow[] rows) =>
        context.Retrieval().QuantizeProduct(EncodeOptions(seed: null)).Fit(TestData.View(context, rows, Dimension)).Quantizer.Codebooks;
}
