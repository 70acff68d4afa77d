using System.Buffers.Binary;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Preprocessing;
using MLNetRetrieval.Images.Transforms;

namespace MLNetRetrieval.Tests.Images.Transforms;

public sealed class ImageEmbeddingStateTests
{
    // Offset of the dimension field: signature (8 bytes), writtenVersion and minReaderVersion (4 each).
    private const int DimensionOffset = 16;

    [Fact]
    public void StateRoundTripsEverySetting()
    {
        var options = new ImageEmbedderOptions
        {
            InputName = TinyModel.InputName,
            OutputName = TinyModel.OutputName,
            Preprocessing = new ImagePreprocessing
            {
                Width = 8,
                Height = 6,
                ResizeMode = ImageResizeMode.Stretch,
                ChannelOrder = ChannelOrder.Bgr,
                Layout = TensorLayout.Nhwc,
                Scale = 1f / 255,
                Mean = [0.485f, 0.456f, 0.406f],
                Std = [0.229f, 0.224f, 0.225f],
                MeanImage = Enumerable.Range(0, 3 * 8 * 6).Select(i => i * 0.25f).ToArray(),
            },
            Normalize = true,
            FlipAverage = true,
            BatchSize = 3,
            Threads = 2,
            DecodeThreads = 1,
            Decoder = new ImageDecoderOptions { MaxSide = 4000, MaxPixelCount = 12_000_000, MaxFileBytes = 1 << 24 },
        };

        ImageEmbeddingState copy = ImageEmbeddingState.Deserialize(new ImageEmbeddingState(TinyModel.Dimension, options, TinyModel.Bytes()).Serialize());

        Assert.Equal(TinyModel.Dimension, copy.Dimension);
        Assert.Equal(TinyModel.Bytes(), copy.ModelBytes);
        Assert.Equal(TinyModel.InputName, copy.Options.InputName);
        Assert.Equal(TinyModel.OutputName, copy.Options.OutputName);
        ImagePreprocessing preprocessing = copy.Options.Preprocessing!;
        Assert.Equal((8, 6), (preprocessing.Width, preprocessing.Height));
        Assert.Equal(ImageResizeMode.Stretch, preprocessing.ResizeMode);
        Assert.Equal(ChannelOrder.Bgr, preprocessing.ChannelOrder);
        Assert.Equal(TensorLayout.Nhwc, preprocessing.Layout);
        Assert.Equal(1f / 255, preprocessing.Scale);
        Assert.Equal(options.Preprocessing.Mean, preprocessing.Mean);
        Assert.Equal(options.Preprocessing.Std, preprocessing.Std);
        Assert.Equal(options.Preprocessing.MeanImage, preprocessing.MeanImage);
        Assert.True(copy.Options.Normalize);
        Assert.True(copy.Options.FlipAverage);
        Assert.Equal(3, copy.Options.BatchSize);
        Assert.Equal(2, copy.Options.Threads);
        Assert.Equal(1, copy.Options.DecodeThreads);
        Assert.Equal(4000, copy.Options.Decoder.MaxSide);
        Assert.Equal(12_000_000, copy.Options.Decoder.MaxPixelCount);
        Assert.Equal(1 << 24, copy.Options.Decoder.MaxFileBytes);
    }

    [Fact]
    public void DefaultModelStateKeepsNullSettings()
    {
        ImageEmbeddingState copy = ImageEmbeddingState.Deserialize(new ImageEmbeddingState(512, new ImageEmbedderOptions(), TinyModel.Bytes()).Serialize());

        ImageEmbedderOptions rebuilt = copy.CreateEmbedderOptions();

        Assert.Null(rebuilt.Preprocessing);
        Assert.Null(rebuilt.InputName);
        Assert.Null(rebuilt.ModelPath);
        Assert.Equal(TinyModel.Bytes(), rebuilt.ModelBytes);
        Assert.Equal(new ImageEmbedderOptions().BatchSize, rebuilt.BatchSize);
    }

    [Fact]
    public void NewerReaderVersionIsRejected()
    {
        byte[] bytes = new ImageEmbeddingState(TinyModel.Dimension, new ImageEmbedderOptions(), TinyModel.Bytes()).Serialize();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), 2);

        var error = Assert.Throws<InvalidDataException>(() => ImageEmbeddingState.Deserialize(bytes));

        Assert.Contains("version 2", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1 << 16)]
    public void OutOfRangeDimensionIsRejected(int dimension)
    {
        byte[] bytes = new ImageEmbeddingState(TinyModel.Dimension, new ImageEmbedderOptions(), TinyModel.Bytes()).Serialize();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(DimensionOffset), dimension);

        var error = Assert.Throws<InvalidDataException>(() => ImageEmbeddingState.Deserialize(bytes));

        Assert.Contains($"byte {DimensionOffset}", error.Message);
    }

    [Fact]
    public void TruncatedModelIsRejected()
    {
        byte[] bytes = new ImageEmbeddingState(TinyModel.Dimension, new ImageEmbedderOptions(), TinyModel.Bytes()).Serialize();

        var error = Assert.Throws<InvalidDataException>(() => ImageEmbeddingState.Deserialize(bytes[..^10]));

        Assert.Contains("model length", error.Message);
    }

    [Fact]
    public void WrongSignatureIsRejected()
    {
        byte[] bytes = new ImageEmbeddingState(TinyModel.Dimension, new ImageEmbedderOptions(), TinyModel.Bytes()).Serialize();
        bytes[0] = (byte)'X';

        var error = Assert.Throws<InvalidDataException>(() => ImageEmbeddingState.Deserialize(bytes));

        Assert.Contains("signature", error.Message);
    }
}
