using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Decoding;
using static MLNetRetrieval.Tests.Images.Core.ImageTestFiles;

namespace MLNetRetrieval.Tests.Images.Core;

/// <summary>Loads the default ResNet18 embedder once for the tests that need the real model.</summary>
public sealed class ResNet18Fixture : IDisposable
{
    public ImageEmbedder Embedder { get; } = new(new ImageEmbedderOptions { Threads = 2 });

    public void Dispose() => Embedder.Dispose();
}

public sealed class ResNet18EquivalenceTests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>
{
    // Both sides run the same ONNX graph on the same floats, and on the 2-core AMD EPYC development machine the
    // outputs were bit-identical. The tolerance covers kernel differences between ONNX Runtime sessions (thread
    // count, fused preprocessing) on other CPUs.
    private const float Tolerance = 1e-4f;

    [Fact]
    public void DefaultModelMatchesDnnFeaturizeImage()
    {
        string[] paths = [.. ClipArt.Select(Image)];
        float[][] reference = MLNetFeatures(paths);

        EmbeddingBatchResult result = fixture.Embedder.EmbedFiles(paths);

        Assert.Equal(512, result.Dimension);
        Assert.Equal([0, 1, 2, 3, 4], result.SourceIndices);
        for (int i = 0; i < paths.Length; i++)
        {
            float[] ours = result.Vectors.AsSpan(i * 512, 512).ToArray();
            float worst = ours.Zip(reference[i]).Max(pair => Math.Abs(pair.First - pair.Second));
            Assert.True(worst <= Tolerance, $"{ClipArt[i]}: largest difference {worst} over {Tolerance}.");
        }
    }

    [Fact]
    public void EmbedMatchesEmbedFiles()
    {
        string path = Image("algeria.png");
        Assert.True(ImageDecoder.TryDecode(path, null, out DecodedImage? image, out _));
        var single = new float[512];

        fixture.Embedder.Embed(image, single);
        EmbeddingBatchResult batch = fixture.Embedder.EmbedFiles([path]);

        Assert.Equal(batch.Vectors, single);
    }

    [Fact]
    public void FolderWithCorruptFileYieldsOneEach()
    {
        using var folder = CreateTempFolder();
        File.Copy(Image("frog.png"), Path.Combine(folder.Path, "a-frog.png"));
        byte[] damaged = File.ReadAllBytes(Image("printer.png"));
        int idat = damaged.AsSpan().IndexOf("IDAT"u8);
        Array.Fill(damaged, (byte)0xFF, idat + 8, 32);  // garbles the start of the zlib stream
        folder.Write("b-printer.png", damaged);
        string[] paths = [.. Directory.GetFiles(folder.Path).Order(StringComparer.Ordinal)];

        EmbeddingBatchResult result = fixture.Embedder.EmbedFiles(paths);

        Assert.Equal([0], result.SourceIndices);
        Assert.Equal(512, result.Vectors.Length);
        ImageFailure failure = Assert.Single(result.Failures);
        Assert.Equal(paths[1], failure.Source);
        Assert.Equal(ImageFailureKind.Corrupt, failure.Kind);
    }

    // ML.NET's documented featurizer pipeline: LoadImages -> ResizeImages(224, 224) -> ExtractPixels -> DnnFeaturizeImage.
    private static float[][] MLNetFeatures(string[] paths)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(paths.Select(path => new ImageRow { Path = path }));
        var pipeline = ml.Transforms.LoadImages("Image", null, nameof(ImageRow.Path))
            .Append(ml.Transforms.ResizeImages("Image", 224, 224))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
            .Append(ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"));
        return [.. pipeline.Fit(data).Transform(data).GetColumn<float[]>("Features")];
    }

    private sealed class ImageRow
    {
        public string Path { get; set; } = string.Empty;
    }
}
