using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Transforms;
using MLNetRetrieval.Transforms;
using Xunit.Abstractions;

namespace MLNetRetrieval.Tests.Images.Transforms;

/// <summary>
/// Scores real image files through the transform, in process and after a round trip through a model
/// zip loaded by a separate process without the ResNet18 package's model folder.
/// </summary>
public sealed class ImageEmbeddingEndToEndTests
{
    // Batched and single-image inference may sum in a different order.
    private const float BatchTolerance = 1e-5f;

    // ONNX Runtime may pick other kernels or thread splits in another process.
    private const float ProcessTolerance = 1e-6f;

    private readonly ITestOutputHelper _output;

    public ImageEmbeddingEndToEndTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void TinyModelRowsMatchBatchEmbedding()
    {
        string folder = ImageFiles.TempFolder();
        var paths = ImageFiles.WriteFashion(folder, first: 0, count: 6).ToList();
        paths.Insert(2, ImageFiles.WriteCorrupt(folder));
        paths.Add(Path.Combine(folder, "missing.png"));
        var context = new MLContext(seed: 1);
        IDataView input = PathView(context, paths);

        ImageEmbeddingTransformer transformer = context.Retrieval().EmbedImages("Embedding", "ImagePath", ImageEmbeddingChainTests.TinyOptions()).Fit(input);
        IDataView scored = transformer.Transform(input);
        float[][] vectors = scored.GetColumn<float[]>("Embedding").ToArray();
        string[] failures = scored.GetColumn<string>("EmbeddingFailure").ToArray();
        EmbeddingBatchResult reference = transformer.Embedder.EmbedFiles(paths);

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, TinyModel.Dimension), scored.Schema["Embedding"].Type);
        Assert.Equal(new[] { 0, 1, 3, 4, 5, 6 }, reference.SourceIndices);
        for (int row = 0; row < reference.SourceIndices.Length; row++)
        {
            int source = reference.SourceIndices[row];
            Assert.Equal(string.Empty, failures[source]);
            for (int j = 0; j < TinyModel.Dimension; j++)
                Assert.Equal(reference.Vectors[(row * TinyModel.Dimension) + j], vectors[source][j], BatchTolerance);
        }

        foreach (int bad in new[] { 2, 7 })
        {
            Assert.NotEqual(string.Empty, failures[bad]);
            Assert.All(vectors[bad], value => Assert.True(float.IsNaN(value)));
        }
    }

    [Fact]
    public void SchemasAgreeWithTransform()
    {
        string[] paths = ImageFiles.WriteFashion(ImageFiles.TempFolder(), first: 40, count: 2);
        var context = new MLContext(seed: 1);
        IDataView input = PathView(context, paths);
        ImageEmbeddingEstimator estimator = context.Retrieval().EmbedImages("Embedding", "ImagePath", ImageEmbeddingChainTests.TinyOptions());

        SchemaShape shape = estimator.GetOutputSchema(Tests.Transforms.TestData.ShapeOf(input.Schema));
        ImageEmbeddingTransformer transformer = estimator.Fit(input);
        DataViewSchema predicted = transformer.GetOutputSchema(input.Schema);
        DataViewSchema actual = transformer.Transform(input).Schema;

        Assert.Equal(actual.Select(c => (c.Name, c.Type)), predicted.Select(c => (c.Name, c.Type)));
        Assert.Equal(actual.Select(c => c.Name).Order(), shape.Select(c => c.Name).Order());
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Embedding").Kind);
    }

    [Fact]
    public void PredictionEngineMatchesTransform()
    {
        string[] paths = ImageFiles.WriteFashion(ImageFiles.TempFolder(), first: 50, count: 2);
        var context = new MLContext(seed: 1);
        IDataView input = PathView(context, paths);
        ImageEmbeddingTransformer transformer = context.Retrieval().EmbedImages("Embedding", "ImagePath", ImageEmbeddingChainTests.TinyOptions()).Fit(input);
        float[][] expected = transformer.Transform(input).GetColumn<float[]>("Embedding").ToArray();

        using PredictionEngine<PathRow, EmbeddingRow> engine = context.Model.CreatePredictionEngine<PathRow, EmbeddingRow>(transformer);
        EmbeddingRow first = engine.Predict(new PathRow { ImagePath = paths[0] });
        EmbeddingRow missing = engine.Predict(new PathRow { ImagePath = paths[0] + ".missing" });

        Assert.Equal(Bits(expected[0]), Bits(first.Embedding));
        Assert.Equal(string.Empty, first.EmbeddingFailure);
        Assert.NotEqual(string.Empty, missing.EmbeddingFailure);
        Assert.All(missing.Embedding, value => Assert.True(float.IsNaN(value)));
    }

    [Fact]
    public void ByteColumnMatchesPathColumn()
    {
        string[] paths = ImageFiles.WriteFashion(ImageFiles.TempFolder(), first: 10, count: 4);
        var context = new MLContext(seed: 1);
        IDataView pathView = PathView(context, paths);
        IDataView byteView = context.Data.LoadFromEnumerable(paths.Select(p => new BytesRow { ImageBytes = File.ReadAllBytes(p) }).ToArray());

        float[][] fromPaths = Embed(context, pathView, "ImagePath");
        float[][] fromBytes = Embed(context, byteView, "ImageBytes");

        for (int i = 0; i < paths.Length; i++)
            Assert.Equal(Bits(fromPaths[i]), Bits(fromBytes[i]));
    }

    [Fact]
    public void TinyZipRoundTripsInProcess()
    {
        string folder = ImageFiles.TempFolder();
        string[] paths = ImageFiles.WriteFashion(folder, first: 20, count: 5);
        var context = new MLContext(seed: 1);
        IDataView input = PathView(context, paths);
        ImageEmbeddingTransformer fitted = context.Retrieval().EmbedImages("Embedding", "ImagePath", ImageEmbeddingChainTests.TinyOptions()).Fit(input);
        string zip = Path.Combine(folder, "model.zip");
        context.Model.Save(fitted, input.Schema, zip);

        ITransformer loaded = context.Model.Load(zip, out _);
        float[][] expected = fitted.Transform(input).GetColumn<float[]>("Embedding").ToArray();
        float[][] actual = loaded.Transform(input).GetColumn<float[]>("Embedding").ToArray();
        ImageEmbedder? embedder = context.Retrieval().GetImageEmbedder(loaded);

        Assert.Equal(expected.Select(Bits), actual.Select(Bits));
        Assert.NotNull(embedder);
        Assert.Equal(TinyModel.Dimension, embedder.Dimension);
        Assert.Equal(TinyModel.Bytes(), embedder.ModelBytes.ToArray());
        Assert.Same(fitted.Embedder, context.Retrieval().GetImageEmbedder(fitted));
    }

    [Theory]
    [InlineData("hnsw", false)]
    [InlineData("ivfpq", true)]
    public void TinyIndexIdenticalInNewProcess(string indexKind, bool bytesInput)
    {
        // IVF-PQ trains 256 centroids per subspace, so the collection needs at least 256 images.
        string folder = ImageFiles.TempFolder();
        string[] collection = ImageFiles.WriteFashion(folder, first: 100, count: 260);
        string[] queries = ImageFiles.WriteFashion(folder, first: 500, count: 12);
        var context = new MLContext(seed: 1);
        string column = bytesInput ? "ImageBytes" : "ImagePath";
        IEstimator<ITransformer> index = indexKind == "hnsw"
            ? context.Retrieval().IndexHnsw("Features", numberOfNeighbors: 5)
            : context.Retrieval().IndexIvfPq("Features", numberOfNeighbors: 5, numberOfLists: 4, numberOfProbes: 4, numberOfSubquantizers: TinyModel.Dimension);
        var pipeline = context.Retrieval().EmbedImages("Features", column, ImageEmbeddingChainTests.TinyOptions())
            .Append(context.Transforms.NormalizeLpNorm("Features"))
            .Append(index);
        IDataView collectionView = bytesInput ? ByteView(context, collection) : PathView(context, collection);
        ITransformer model = pipeline.Fit(collectionView);
        string zip = Path.Combine(folder, "model.zip");
        context.Model.Save(model, collectionView.Schema, zip);

        IDataView scored = model.Transform(bytesInput ? ByteView(context, queries) : PathView(context, queries));
        long[][] expectedIds = scored.GetColumn<long[]>("NeighborIds").ToArray();
        float[][] expectedDistances = scored.GetColumn<float[]>("Distances").ToArray();
        var (rows, output) = ImageLoadCheck.Run(zip, queries, bytesInput, searches: true, embeddingColumn: "Features");
        ITransformer loaded = context.Model.Load(zip, out _);

        Assert.Contains("DnnImageModels folder present: False", output);
        Assert.Equal(expectedIds, rows.Select(r => r.NeighborIds));
        Assert.Equal(expectedDistances.Select(Bits), rows.Select(r => Bits(r.Distances)));
        Assert.Single(context.Retrieval().GetSearchers(loaded));
        Assert.Equal(TinyModel.Dimension, context.Retrieval().GetImageEmbedder(loaded)?.Dimension);
    }

    [Fact]
    public void FailuresReportedInNewProcess()
    {
        string folder = ImageFiles.TempFolder();
        var paths = ImageFiles.WriteFashion(folder, first: 30, count: 3).ToList();
        paths.Insert(1, ImageFiles.WriteCorrupt(folder));
        paths.Add(Path.Combine(folder, "missing.png"));
        var context = new MLContext(seed: 1);
        IDataView input = PathView(context, paths);
        ImageEmbeddingTransformer fitted = context.Retrieval().EmbedImages("Embedding", "ImagePath", ImageEmbeddingChainTests.TinyOptions()).Fit(input);
        string zip = Path.Combine(folder, "model.zip");
        context.Model.Save(fitted, input.Schema, zip);
        string[] expected = fitted.Transform(input).GetColumn<string>("EmbeddingFailure").ToArray();

        var (rows, _) = ImageLoadCheck.Run(zip, paths, bytes: false, searches: false);

        Assert.Equal(expected, rows.Select(r => r.Failure));
        Assert.Equal(new[] { false, true, false, false, true }, rows.Select(r => r.Failure.Length > 0));
        Assert.All(rows[1].Embedding, value => Assert.True(float.IsNaN(value)));
        Assert.All(rows[4].Embedding, value => Assert.True(float.IsNaN(value)));
        Assert.All(rows[0].Embedding, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void ResNet18ExactIndexIdenticalInNewProcess()
    {
        string folder = ImageFiles.TempFolder();
        string[] collection = ImageFiles.WriteFashion(folder, first: 1000, count: 16);
        string[] queries = [collection[3], collection[10], .. ImageFiles.WriteFashion(folder, first: 2000, count: 3)];
        var context = new MLContext(seed: 1);
        var pipeline = context.Retrieval().EmbedImages("Features", "ImagePath")
            .Append(context.Transforms.NormalizeLpNorm("Features"))
            .Append(context.Retrieval().IndexExact("Features", numberOfNeighbors: 5));
        IDataView collectionView = PathView(context, collection);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ITransformer model = pipeline.Fit(collectionView);
        TimeSpan fit = clock.Elapsed;
        string zip = Path.Combine(folder, "model.zip");
        clock.Restart();
        context.Model.Save(model, collectionView.Schema, zip);
        _output.WriteLine($"ResNet18 exact index over {collection.Length} images: fit {fit.TotalSeconds:F1} s, save {clock.Elapsed.TotalSeconds:F1} s, zip {new FileInfo(zip).Length} bytes");

        IDataView scored = model.Transform(PathView(context, queries));
        long[][] expectedIds = scored.GetColumn<long[]>("NeighborIds").ToArray();
        float[][] expectedVectors = scored.GetColumn<float[]>("Features").ToArray();
        clock.Restart();
        var (rows, output) = ImageLoadCheck.Run(zip, queries, bytes: false, searches: true, embeddingColumn: "Features");
        _output.WriteLine($"new process: load and score {queries.Length} images {clock.Elapsed.TotalSeconds:F1} s");

        Assert.Contains("DnnImageModels folder present: False", output);
        Assert.Contains("Vector<Single, 512>", output);
        Assert.Equal(expectedIds, rows.Select(r => r.NeighborIds));
        Assert.Equal(3L, rows[0].NeighborIds[0]);
        Assert.Equal(10L, rows[1].NeighborIds[0]);
        for (int i = 0; i < queries.Length; i++)
        {
            for (int j = 0; j < 512; j++)
                Assert.Equal(expectedVectors[i][j], rows[i].Embedding[j], ProcessTolerance);
        }
    }

    private static float[][] Embed(MLContext context, IDataView input, string column) =>
        context.Retrieval().EmbedImages("Embedding", column, ImageEmbeddingChainTests.TinyOptions()).Fit(input)
            .Transform(input).GetColumn<float[]>("Embedding").ToArray();

    private static IDataView PathView(MLContext context, IReadOnlyList<string> paths) =>
        context.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }).ToArray());

    private static IDataView ByteView(MLContext context, IReadOnlyList<string> paths) =>
        context.Data.LoadFromEnumerable(paths.Select(p => new BytesRow { ImageBytes = File.ReadAllBytes(p) }).ToArray());

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private sealed class PathRow
    {
        public string ImagePath = string.Empty;
    }

    private sealed class EmbeddingRow
    {
        [VectorType(TinyModel.Dimension)]
        public float[] Embedding = [];

        public string EmbeddingFailure = string.Empty;
    }

    private sealed class BytesRow
    {
        [VectorType]
        public byte[] ImageBytes = [];
    }
}
