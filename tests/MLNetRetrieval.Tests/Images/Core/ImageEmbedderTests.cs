using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Onnx;
using MLNetRetrieval.Images.Preprocessing;
using static MLNetRetrieval.Tests.Images.Core.ImageTestFiles;

namespace MLNetRetrieval.Tests.Images.Core;

/// <summary>
/// Embedder tests on the tiny channel-means models (TestData/models/README.md), whose outputs are computed by hand:
/// values 0..2 are the channel means of the tensor, values 3..5 those of its leftmost column.
/// </summary>
public sealed class ImageEmbedderTests
{
    private const float Tolerance = 1e-5f;

    // 8x8 pixels: R = 10x, G = 10y, B = 100.
    private static readonly DecodedImage Ramp = new(8, 8, [.. Enumerable.Range(0, 64).SelectMany(i => new[] { (byte)(10 * (i % 8)), (byte)(10 * (i / 8)), (byte)100 })]);

    private static readonly ImagePreprocessing EightByEight = new() { Width = 8, Height = 8 };

    [Fact]
    public void ChannelMeansMatchHandValues()
    {
        using var embedder = TinyEmbedder();
        var embedding = new float[embedder.Dimension];

        embedder.Embed(Ramp, embedding);

        // Whole image: mean of 0, 10, ..., 70 is 35 for R and G; B is 100. Left column: R = 0.
        Assert.Equal([35f, 35f, 100f, 0f, 35f, 100f], embedding);
    }

    [Fact]
    public void FlipAverageUsesMirrorImage()
    {
        using var embedder = TinyEmbedder(o => o.FlipAverage = true);
        var embedding = new float[embedder.Dimension];

        embedder.Embed(Ramp, embedding);

        // The mirror's left column is the original's right one (R = 70), so its R mean averages to (0 + 70) / 2.
        Assert.Equal([35f, 35f, 100f, 35f, 35f, 100f], embedding);
    }

    [Fact]
    public void NormalizeGivesUnitLength()
    {
        using var plain = TinyEmbedder();
        using var normalized = TinyEmbedder(o => o.Normalize = true);
        var raw = new float[6];
        var unit = new float[6];

        plain.Embed(Ramp, raw);
        normalized.Embed(Ramp, unit);

        float norm = MathF.Sqrt(raw.Sum(v => v * v));
        Assert.Equal(1f, MathF.Sqrt(unit.Sum(v => v * v)), Tolerance);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(raw[i] / norm, unit[i], Tolerance);
        }
    }

    [Fact]
    public void BatchedRunMatchesOneByOne()
    {
        using var embedder = TinyEmbedder(o => o.BatchSize = 3);
        string[] paths = [.. ClipArt.Select(Image)];

        EmbeddingBatchResult batch = embedder.EmbedFiles(paths);

        Assert.Equal(3, embedder.ImagesPerRun);
        Assert.Equal([0, 1, 2, 3, 4], batch.SourceIndices);
        for (int i = 0; i < paths.Length; i++)
        {
            Assert.True(ImageDecoder.TryDecode(paths[i], null, out DecodedImage? image, out _));
            var single = new float[6];
            embedder.Embed(image, single);
            Assert.Equal(single, batch.Vectors.AsSpan(i * 6, 6).ToArray());
        }
    }

    [Fact]
    public void NhwcFixedBatchMatchesNchw()
    {
        using var nchw = TinyEmbedder(o => o.FlipAverage = true);
        using var nhwc = new ImageEmbedder(new ImageEmbedderOptions
        {
            ModelPath = Model("channel_means_nhwc_batch1.onnx"),
            Preprocessing = new ImagePreprocessing { Width = 8, Height = 8, Layout = TensorLayout.Nhwc },
            FlipAverage = true,
            BatchSize = 4,
            Threads = 1,
        });
        string[] paths = [.. ClipArt.Select(Image)];

        EmbeddingBatchResult expected = nchw.EmbedFiles(paths);
        EmbeddingBatchResult actual = nhwc.EmbedFiles(paths);

        Assert.Equal(1, nhwc.ImagesPerRun);
        Assert.Equal("image", nhwc.InputName);
        Assert.Equal("features", nhwc.OutputName);
        for (int i = 0; i < expected.Vectors.Length; i++)
        {
            Assert.Equal(expected.Vectors[i], actual.Vectors[i], Tolerance);
        }
    }

    [Fact]
    public void BadImagesBecomeFailuresInOrder()
    {
        using var folder = CreateTempFolder();
        byte[] jigsaw = File.ReadAllBytes(Image("jigsaw.png"));
        string[] paths =
        [
            Image("frog.png"),
            Path.Combine(folder.Path, "missing.png"),
            folder.Write("empty.jpg", []),
            folder.Write("cut.png", jigsaw[..(jigsaw.Length / 2)]),
            Image("armadillo.png"),
            folder.Write("huge.png", PngHeaderOnly(50_000, 50_000)),
            folder.Write("notes.png", "plain text"u8.ToArray()),
            Image("printer.png"),
        ];
        var reports = new List<EmbeddingProgress>();
        using var embedder = TinyEmbedder();

        EmbeddingBatchResult result = embedder.EmbedFiles(paths, new SynchronousProgress(reports.Add));

        Assert.Equal([0, 4, 7], result.SourceIndices);
        Assert.Equal([paths[1], paths[2], paths[3], paths[5], paths[6]], result.Failures.Select(f => f.Source));
        ImageFailureKind[] kinds = [ImageFailureKind.NotFound, ImageFailureKind.Empty, ImageFailureKind.Truncated, ImageFailureKind.TooLarge, ImageFailureKind.UnsupportedFormat];
        Assert.Equal(kinds, result.Failures.Select(f => f.Kind));
        Assert.Equal(new EmbeddingProgress(8, 8, 5), reports[^1]);
        Assert.Equal(reports.Select(r => r.Done).Order(), reports.Select(r => r.Done));
    }

    [Fact]
    public void EmptyListGivesEmptyResult()
    {
        using var embedder = TinyEmbedder();

        EmbeddingBatchResult result = embedder.EmbedFiles([]);

        Assert.Empty(result.Vectors);
        Assert.Empty(result.Failures);
    }

    [Fact]
    public void ConcurrentRunsAgree()
    {
        using var embedder = TinyEmbedder(o => o.BatchSize = 2);
        string[] paths = [.. ClipArt.Select(Image), .. ClipArt.Select(Image)];
        EmbeddingBatchResult expected = embedder.EmbedFiles(paths);

        var results = new EmbeddingBatchResult[4];
        Parallel.For(0, results.Length, i => results[i] = embedder.EmbedFiles(paths));

        Assert.All(results, r => Assert.Equal(expected.Vectors, r.Vectors));
    }

    [Fact]
    public void CancelledRunThrows()
    {
        using var embedder = TinyEmbedder();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => embedder.EmbedFiles([Image("frog.png")], null, cancelled.Token));
    }

    [Fact]
    public void WrongInputSizeNamesShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => TinyEmbedder(o => o.Preprocessing = new ImagePreprocessing { Width = 16, Height = 16 }));

        Assert.Contains("'pixels'", error.Message);
        Assert.Contains("[?, 3, 8, 8]", error.Message);
        Assert.Contains("[batch, 3, 16, 16]", error.Message);
    }

    [Fact]
    public void WrongLayoutIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => TinyEmbedder(o => o.Preprocessing = new ImagePreprocessing { Width = 8, Height = 8, Layout = TensorLayout.Nhwc }));

        Assert.Contains("Nhwc", error.Message);
    }

    [Fact]
    public void UnknownOutputNameListsOutputs()
    {
        var error = Assert.Throws<ArgumentException>(() => TinyEmbedder(o => o.OutputName = "logits"));

        Assert.Contains("'logits'", error.Message);
        Assert.Contains("'embedding'", error.Message);
    }

    [Fact]
    public void MissingModelFileIsReported()
    {
        var error = Assert.Throws<FileNotFoundException>(() => TinyEmbedder(o => o.ModelPath = "/nonexistent/model.onnx"));

        Assert.Contains("/nonexistent/model.onnx", error.Message);
    }

    [Fact]
    public void MissingDefaultModelNamesPackage()
    {
        using var folder = CreateTempFolder();

        var error = Assert.Throws<FileNotFoundException>(() => DefaultImageModel.ReadModelBytes(folder.Path));

        Assert.Contains(DefaultImageModel.PackageName, error.Message);
        Assert.Contains(Path.Combine(folder.Path, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"), error.Message);
    }

    [Fact]
    public void InvalidModelBytesAreRejected()
    {
        Assert.Throws<InvalidDataException>(() => TinyEmbedder(o =>
        {
            o.ModelPath = null;
            o.ModelBytes = "definitely not an ONNX protobuf"u8.ToArray();
        }));
    }

    [Fact]
    public void ModelBytesMatchFile()
    {
        using var embedder = TinyEmbedder();

        Assert.Equal(File.ReadAllBytes(Model("channel_means.onnx")), embedder.ModelBytes.ToArray());
    }

    [Fact]
    public void ConfigureSessionIsCalled()
    {
        int calls = 0;

        using var embedder = TinyEmbedder(o => o.ConfigureSession = options => calls++);

        Assert.Equal(1, calls);
    }

    private static ImageEmbedder TinyEmbedder(Action<ImageEmbedderOptions>? configure = null)
    {
        var options = new ImageEmbedderOptions
        {
            ModelPath = Model("channel_means.onnx"),
            Preprocessing = EightByEight,
            Threads = 2,
        };
        configure?.Invoke(options);
        return new ImageEmbedder(options);
    }

    // Progress<T> posts to the thread pool; the test needs every report before EmbedFiles returns.
    private sealed class SynchronousProgress(Action<EmbeddingProgress> report) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => report(value);
    }
}
