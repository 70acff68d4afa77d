using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Preprocessing;
using MLNetRetrieval.Images.Transforms;
using MLNetRetrieval.Tests.Transforms;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Images.Transforms;

/// <summary>
/// The saved chain without running inference: what the zip holds, which types a loaded model reports,
/// and how the embedding pieces join. Scoring rows needs the embedder and is covered by the end-to-end tests.
/// </summary>
public sealed class ImageEmbeddingChainTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(512)]
    [InlineData(768)]
    [InlineData(1000)]
    [InlineData(ImageEmbeddingColumns.MaxDimension)]
    public void PiecesJoinBackInOrder(int dimension)
    {
        float[] embedding = Enumerable.Range(0, dimension).Select(i => i * 0.5f).ToArray();
        var output = new ImageEmbeddingOutput();

        output.SetPieces(embedding);
        float[] joined = ImageEmbeddingColumns.Pieces(dimension).SelectMany(name => Piece(output, name)).ToArray();

        Assert.Equal(embedding, joined);
    }

    [Fact]
    public void LoadedChainKeepsKnownSizeVector()
    {
        var context = new MLContext(seed: 1);
        string zip = SaveTinyChain(context, bytesInput: false, out IDataView input);

        ITransformer loaded = context.Model.Load(zip, out _);
        DataViewSchema schema = loaded.GetOutputSchema(input.Schema);

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, TinyModel.Dimension), schema["Embedding"].Type);
        Assert.Equal(TextDataViewType.Instance, schema["EmbeddingFailure"].Type);
        Assert.DoesNotContain(schema, c => c.Name.StartsWith("__MLNetRetrieval", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadedChainFeedsLpNormalizer()
    {
        var context = new MLContext(seed: 1);
        string zip = SaveTinyChain(context, bytesInput: false, out IDataView input);
        ITransformer loaded = context.Model.Load(zip, out _);

        ITransformer normalizer = context.Transforms.NormalizeLpNorm("Embedding").Fit(loaded.Transform(input));
        DataViewSchema schema = normalizer.GetOutputSchema(loaded.GetOutputSchema(input.Schema));

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, TinyModel.Dimension), schema["Embedding"].Type);
    }

    [Fact]
    public void LoadedChainStoresModelAndSettings()
    {
        var context = new MLContext(seed: 1);
        string zip = SaveTinyChain(context, bytesInput: true, out _);

        ITransformer loaded = context.Model.Load(zip, out _);
        ReadOnlyMemory<char>[]? chunks = ImageRetrievalCatalog.FindStateChunks(context, loaded);
        ImageEmbeddingState state = ImageEmbeddingState.Deserialize(ImageModelPayload.Decode(chunks));

        Assert.Equal(TinyModel.Bytes(), state.ModelBytes);
        Assert.Equal(TinyModel.Dimension, state.Dimension);
        Assert.Equal(TinyModel.OutputName, state.Options.OutputName);
        Assert.Equal(8, state.Options.Preprocessing!.Width);
    }

    [Fact]
    public void SearchersFoundBesideImageStep()
    {
        var context = new MLContext(seed: 1);
        ITransformer embedding = TinyChain(context, bytesInput: false, out IDataView input, outputColumnName: "Features");
        ItemRow[] rows = TestData.IntegerRows(30, TinyModel.Dimension, seed: 3, maxValue: 9);
        ITransformer index = context.Retrieval().IndexExact("Features", numberOfNeighbors: 4).Fit(TestData.View(context, rows, TinyModel.Dimension));
        var model = new TransformerChain<ITransformer>(embedding, index);
        string zip = Path.Combine(ImageFiles.TempFolder(), "model.zip");
        context.Model.Save(model, input.Schema, zip);

        ITransformer loaded = context.Model.Load(zip, out _);
        IReadOnlyList<NeighborSearcher> searchers = context.Retrieval().GetSearchers(loaded);

        Assert.Single(searchers);
        Assert.Equal(30, searchers[0].Count);
        Assert.NotNull(ImageRetrievalCatalog.FindStateChunks(context, loaded));
    }

    [Fact]
    public void ModelWithoutImageStepHasNoEmbedder()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] rows = TestData.IntegerRows(20, 4, seed: 4);
        ITransformer model = context.Retrieval().IndexExact(numberOfNeighbors: 3).Fit(TestData.View(context, rows, 4));
        string zip = Path.Combine(ImageFiles.TempFolder(), "model.zip");
        context.Model.Save(model, TestData.View(context, rows, 4).Schema, zip);

        ITransformer loaded = context.Model.Load(zip, out _);

        Assert.Null(context.Retrieval().GetImageEmbedder(loaded));
    }

    /// <summary>Fits the chain around the tiny model without an embedder, so nothing runs inference.</summary>
    internal static ITransformer TinyChain(MLContext context, bool bytesInput, out IDataView input, string outputColumnName = "Embedding")
    {
        var options = new ImageEmbeddingEstimator.Options
        {
            InputColumnName = bytesInput ? "ImageBytes" : "ImagePath",
            OutputColumnName = outputColumnName,
            EmbedderOptions = TinyOptions(),
        };
        var state = new ImageEmbeddingState(TinyModel.Dimension, options.EmbedderOptions, TinyModel.Bytes());
        input = bytesInput
            ? context.Data.LoadFromEnumerable(new[] { new BytesRow() })
            : context.Data.LoadFromEnumerable(new[] { new PathRow() });
        return ImageEmbeddingTransformer.BuildChain(context, state, options, bytesInput, embedder: null);
    }

    internal static ImageEmbedderOptions TinyOptions() => new()
    {
        ModelBytes = TinyModel.Bytes(),
        InputName = TinyModel.InputName,
        OutputName = TinyModel.OutputName,
        Preprocessing = new ImagePreprocessing { Width = 8, Height = 8, ResizeMode = ImageResizeMode.Stretch, Scale = 1f / 255 },
        BatchSize = 4,
        Threads = 1,
    };

    private static string SaveTinyChain(MLContext context, bool bytesInput, out IDataView input)
    {
        ITransformer chain = TinyChain(context, bytesInput, out input);
        string zip = Path.Combine(ImageFiles.TempFolder(), "model.zip");
        context.Model.Save(chain, input.Schema, zip);
        return zip;
    }

    private static float[] Piece(ImageEmbeddingOutput output, string columnName)
    {
        int bit = int.Parse(columnName[ImageEmbeddingColumns.PiecePrefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
        float[] values = (float[])typeof(ImageEmbeddingOutput).GetField($"Piece{bit}")!.GetValue(output)!;
        Assert.Equal(1 << bit, values.Length);
        return values;
    }

    private sealed class PathRow
    {
        public string ImagePath = string.Empty;
    }

    private sealed class BytesRow
    {
        [VectorType]
        public byte[] ImageBytes = [];
    }
}
