using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Onnx;
using MLNetRetrieval.Images.Preprocessing;
using static MLNetRetrieval.Tests.Images.Core.ImageTestFiles;

namespace MLNetRetrieval.Tests.Images.Core;

public sealed class ImagePreprocessingTests
{
    // A 3x2 image (width 3, height 2), RGB per pixel, rows top to bottom:
    //   (10, 20, 30)  (40, 50, 60)  (70, 80, 90)
    //   (11, 21, 31)  (41, 51, 61)  (71, 81, 91)
    private static readonly DecodedImage Tiny = new(3, 2, [10, 20, 30, 40, 50, 60, 70, 80, 90, 11, 21, 31, 41, 51, 61, 71, 81, 91]);

    // Scale 2, then per channel in B, G, R order: minus (1, 2, 3), divided by (2, 4, 8).
    private static readonly ImagePreprocessing TinyBgr = new()
    {
        Width = 3,
        Height = 2,
        ChannelOrder = ChannelOrder.Bgr,
        Scale = 2f,
        Mean = [1f, 2f, 3f],
        Std = [2f, 4f, 8f],
    };

    [Fact]
    public void TinyImageNchwMatchesHandTensor()
    {
        var tensor = new float[TinyBgr.TensorLength];

        TinyBgr.Write(Tiny, tensor);

        // Plane B: (2b - 1) / 2; plane G: (2g - 2) / 4; plane R: (2r - 3) / 8.
        float[] expected =
        [
            29.5f, 59.5f, 89.5f, 30.5f, 60.5f, 90.5f,
            9.5f, 24.5f, 39.5f, 10f, 25f, 40f,
            2.125f, 9.625f, 17.125f, 2.375f, 9.875f, 17.375f,
        ];
        Assert.Equal(expected, tensor);
    }

    [Fact]
    public void TinyImageNhwcMatchesHandTensor()
    {
        var preprocessing = new ImagePreprocessing
        {
            Width = 3,
            Height = 2,
            Layout = TensorLayout.Nhwc,
            Scale = 1f / 2,
            Mean = [5f, 0f, 0f],
            Std = [1f, 1f, 0.5f],
        };
        var tensor = new float[preprocessing.TensorLength];

        preprocessing.Write(Tiny, tensor, flipHorizontal: true);

        // R, G, B interleaved, columns mirrored: R / 2 - 5, G / 2, B / 2 / 0.5.
        float[] expected =
        [
            30f, 40f, 90f, 15f, 25f, 60f, 0f, 10f, 30f,
            30.5f, 40.5f, 91f, 15.5f, 25.5f, 61f, 0.5f, 10.5f, 31f,
        ];
        Assert.Equal(expected, tensor);
    }

    [Fact]
    public void FlipMirrorsEachRow()
    {
        var straight = new float[TinyBgr.TensorLength];
        var flipped = new float[TinyBgr.TensorLength];

        TinyBgr.Write(Tiny, straight);
        TinyBgr.Write(Tiny, flipped, flipHorizontal: true);

        for (int row = 0; row < 3 * 2; row++)
        {
            Assert.Equal(straight.AsSpan(row * 3, 3).ToArray().Reverse(), flipped.AsSpan(row * 3, 3).ToArray());
        }
    }

    [Fact]
    public void MeanImageIsSubtractedPerElement()
    {
        float[] meanImage = [.. Enumerable.Range(0, 18).Select(i => (float)i)];
        var preprocessing = new ImagePreprocessing { Width = 3, Height = 2, MeanImage = meanImage };
        var tensor = new float[18];

        preprocessing.Write(Tiny, tensor);

        // Plane R, first element: 10 - 0; plane G, first element: 20 - 6; plane B, last element: 91 - 17.
        Assert.Equal(10f, tensor[0]);
        Assert.Equal(14f, tensor[6]);
        Assert.Equal(74f, tensor[17]);
    }

    [Fact]
    public void CenterCropFiltersMiddleColumns()
    {
        // A 4x2 image cropped to 2x2: the scale is 1, so the crop is a shift by one column, but Skia still applies
        // the Mitchell filter, whose weights at offsets -1, 0, 1 are 1/18, 16/18, 1/18, with edges clamped.
        // Pixel (x, y), channel c contains 10 * (12y + 3x + c): horizontally linear, so the horizontal pass changes
        // nothing, while vertically row 0 gains (120 - 0) / 18 = 6.67 and row 1 loses as much.
        var wide = new DecodedImage(4, 2, [.. Enumerable.Range(0, 24).Select(i => (byte)(i * 10))]);
        var preprocessing = new ImagePreprocessing { Width = 2, Height = 2, Layout = TensorLayout.Nhwc };
        var tensor = new float[preprocessing.TensorLength];

        preprocessing.Write(wide, tensor);

        float[] expected = [37, 47, 57, 67, 77, 87, 143, 153, 163, 173, 183, 193];
        Assert.Equal(expected, tensor);
    }

    [Fact]
    public void StretchFillsWholeTensor()
    {
        var uniform = new DecodedImage(5, 3, [.. Enumerable.Repeat((byte)77, 5 * 3 * 3)]);
        var preprocessing = new ImagePreprocessing { Width = 8, Height = 8, ResizeMode = ImageResizeMode.Stretch };
        var tensor = new float[preprocessing.TensorLength];

        preprocessing.Write(uniform, tensor);

        Assert.All(tensor, value => Assert.Equal(77f, value));
    }

    [Fact]
    public void ResizeMatchesMLNetPixels()
    {
        using var folder = CreateTempFolder();
        string[] paths =
        [
            .. ClipArt.Select(Image),
            folder.Write("exact-224.png", EncodeRgba(224, 224, PatternRgba(224, 224), SkiaSharp.SKEncodedImageFormat.Png)),
            folder.Write("tall-224.png", EncodeRgba(150, 224, PatternRgba(150, 224), SkiaSharp.SKEncodedImageFormat.Png)),
            folder.Write("thin-2.png", EncodeRgba(300, 2, PatternRgba(300, 2), SkiaSharp.SKEncodedImageFormat.Png)),
        ];
        float[][] reference = MLNetPixels(paths, 224, 224);
        var ours = new ImagePreprocessing();

        for (int i = 0; i < paths.Length; i++)
        {
            Assert.True(ImageDecoder.TryDecode(paths[i], null, out DecodedImage? image, out _));
            var tensor = new float[ours.TensorLength];
            ours.Write(image, tensor);

            int differing = tensor.Zip(reference[i]).Count(pair => pair.First != pair.Second);
            Assert.True(differing == 0, $"{Path.GetFileName(paths[i])}: {differing} of {tensor.Length} values differ from ML.NET's.");
        }
    }

    // ML.NET's own LoadImages -> ResizeImages -> ExtractPixels with its defaults (R, G, B planes, 0..255).
    private static float[][] MLNetPixels(string[] paths, int width, int height)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(paths.Select(path => new ImageRow { Path = path }));
        var pipeline = ml.Transforms.LoadImages("Image", null, nameof(ImageRow.Path))
            .Append(ml.Transforms.ResizeImages("Image", width, height))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"));
        return [.. pipeline.Fit(data).Transform(data).GetColumn<float[]>("Pixels")];
    }

    [Fact]
    public void ResNet18MeanImageIsPlausible()
    {
        ImagePreprocessing preprocessing = DefaultImageModel.LoadResNet18Preprocessing();
        float[] mean = preprocessing.MeanImage!;
        int plane = 224 * 224;

        // Planes are B, G, R; ImageNet's average colour is about (104, 117, 124) in that order.
        Assert.Equal(3 * plane, mean.Length);
        Assert.InRange(mean.AsSpan(0, plane).ToArray().Average(), 95f, 112f);
        Assert.InRange(mean.AsSpan(plane, plane).ToArray().Average(), 108f, 124f);
        Assert.InRange(mean.AsSpan(2 * plane, plane).ToArray().Average(), 115f, 131f);
    }

    [Theory]
    [InlineData(0, 224)]
    [InlineData(224, -1)]
    public void InvalidSizeIsRejected(int width, int height)
    {
        var preprocessing = new ImagePreprocessing { Width = width, Height = height };

        var error = Assert.Throws<ArgumentException>(preprocessing.Validate);

        Assert.Contains($"{width}x{height}", error.Message);
    }

    [Fact]
    public void ZeroStdIsRejected()
    {
        var preprocessing = new ImagePreprocessing { Std = [1f, 0f, 1f] };

        var error = Assert.Throws<ArgumentException>(preprocessing.Validate);

        Assert.Equal(nameof(ImagePreprocessing.Std), error.ParamName);
    }

    [Fact]
    public void ShortDestinationIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => TinyBgr.Write(Tiny, new float[17]));

        Assert.Contains("18", error.Message);
    }

    private sealed class ImageRow
    {
        public string Path { get; set; } = string.Empty;
    }
}
