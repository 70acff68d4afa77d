using System.Buffers;
using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Images.Preprocessing;

/// <summary>How the image is fitted to the model's input size.</summary>
public enum ImageResizeMode
{
    /// <summary>Scale so the shorter side matches, then cut the centre to the target size.</summary>
    ShorterSideThenCenterCrop,

    /// <summary>Scale width and height independently to the target size.</summary>
    Stretch,
}

/// <summary>Order of the colour channels in the tensor.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue.</summary>
    Rgb,

    /// <summary>Blue, green, red.</summary>
    Bgr,
}

/// <summary>Memory layout of one image in the tensor.</summary>
public enum TensorLayout
{
    /// <summary>Channels, then rows, then columns (planar).</summary>
    Nchw,

    /// <summary>Rows, then columns, then channels (interleaved).</summary>
    Nhwc,
}

/// <summary>
/// Turns a decoded image into the float tensor a model expects: value = (pixel * Scale - Mean[c]) / Std[c]
/// after resizing, for each channel c in <see cref="ChannelOrder"/>. When <see cref="MeanImage"/> is set it
/// replaces <see cref="Mean"/>: value = (pixel * Scale - MeanImage[i]) / Std[c], i being the tensor index.
/// </summary>
/// <remarks>
/// Resizing draws the image with Skia's Mitchell cubic filter (B = C = 1/3) and no mipmaps, which reproduces
/// ML.NET 6.0's <c>ResizeImages</c> pixel for pixel on the test images, and
/// <see cref="ImageResizeMode.ShorterSideThenCenterCrop"/> repeats ML.NET's crop geometry for
/// <c>ResizingKind.IsoCrop</c> with a centre anchor, single-precision truncations included, so that the default
/// model reproduces <c>DnnFeaturizeImage</c>. Shrinking by more than about 2x therefore aliases, as in ML.NET.
/// An instance is immutable once built and safe to share between threads.
/// </remarks>
public sealed class ImagePreprocessing
{
    /// <summary>Tensor width in pixels.</summary>
    public int Width { get; init; } = 224;

    /// <summary>Tensor height in pixels.</summary>
    public int Height { get; init; } = 224;

    /// <summary>How the image is fitted to <see cref="Width"/> by <see cref="Height"/>.</summary>
    public ImageResizeMode ResizeMode { get; init; } = ImageResizeMode.ShorterSideThenCenterCrop;

    /// <summary>Channel order in the tensor.</summary>
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>Layout of the tensor.</summary>
    public TensorLayout Layout { get; init; } = TensorLayout.Nchw;

    /// <summary>Factor applied to the 0..255 byte value first.</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>Per-channel value subtracted after scaling, in <see cref="ChannelOrder"/>.</summary>
    public IReadOnlyList<float> Mean { get; init; } = [0f, 0f, 0f];

    /// <summary>Per-channel divisor applied last, in <see cref="ChannelOrder"/>.</summary>
    public IReadOnlyList<float> Std { get; init; } = [1f, 1f, 1f];

    /// <summary>
    /// Per-element mean subtracted instead of <see cref="Mean"/>, or null. Size <see cref="TensorLength"/>, in the
    /// tensor's own layout and channel order (ResNet18's preprocessing subtracts such a 3 x 224 x 224 mean image).
    /// </summary>
    public float[]? MeanImage { get; init; }

    /// <summary>Number of floats one image takes: 3 * Width * Height.</summary>
    public int TensorLength => checked(3 * Width * Height);

    /// <summary>Checks that the settings describe a valid tensor.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (Width < 1 || Height < 1 || (long)Width * Height > 1L << 26)
        {
            throw new ArgumentException(
                $"The tensor size {Width}x{Height} is invalid; Width and Height must be at least 1 and Width * Height at most {1L << 26}.", nameof(Width));
        }

        if (!Enum.IsDefined(ResizeMode) || !Enum.IsDefined(ChannelOrder) || !Enum.IsDefined(Layout))
        {
            throw new ArgumentException($"Unknown enum value in ResizeMode={ResizeMode}, ChannelOrder={ChannelOrder} or Layout={Layout}.", nameof(ResizeMode));
        }

        if (!float.IsFinite(Scale))
        {
            throw new ArgumentException($"Scale must be finite but is {Scale}.", nameof(Scale));
        }

        if (Mean is null || Mean.Count != 3 || Mean.Any(v => !float.IsFinite(v)))
        {
            throw new ArgumentException($"Mean must hold 3 finite values, one per channel, but is [{string.Join(", ", Mean ?? [])}].", nameof(Mean));
        }

        if (Std is null || Std.Count != 3 || Std.Any(v => !float.IsFinite(v) || v == 0f))
        {
            throw new ArgumentException($"Std must hold 3 finite non-zero values, one per channel, but is [{string.Join(", ", Std ?? [])}].", nameof(Std));
        }

        if (MeanImage is not null && MeanImage.Length != TensorLength)
        {
            throw new ArgumentException(
                $"MeanImage has {MeanImage.Length} values but a 3x{Height}x{Width} tensor needs {TensorLength}.", nameof(MeanImage));
        }
    }

    /// <summary>Writes the tensor of one image.</summary>
    /// <param name="image">The decoded image.</param>
    /// <param name="destination">At least <see cref="TensorLength"/> floats.</param>
    /// <param name="flipHorizontal">Mirror the image left to right (for flip averaging).</param>
    public void Write(DecodedImage image, Span<float> destination, bool flipHorizontal = false)
    {
        ArgumentNullException.ThrowIfNull(image);
        Validate();
        if (destination.Length < TensorLength)
        {
            throw new ArgumentException(
                $"The destination has {destination.Length} floats but a 3x{Height}x{Width} tensor needs {TensorLength}.", nameof(destination));
        }

        using var rgba = RgbaImage.FromRgb(image);
        Span<float> tensor = destination[..TensorLength];
        if (flipHorizontal)
        {
            WriteViews(rgba, Span<float>.Empty, tensor);
        }
        else
        {
            WriteViews(rgba, tensor, Span<float>.Empty);
        }
    }

    /// <summary>
    /// Resizes once and writes the straight tensor to <paramref name="straight"/> (unless empty) and the mirrored one
    /// to <paramref name="flipped"/> (unless empty); each is <see cref="TensorLength"/> floats.
    /// </summary>
    internal void WriteViews(RgbaImage image, Span<float> straight, Span<float> flipped)
    {
        byte[] resized = ArrayPool<byte>.Shared.Rent(checked(Width * Height * 4));
        try
        {
            Span<byte> target = resized.AsSpan(0, Width * Height * 4);
            ImageResizer.Resize(image, ResizeMode, Width, Height, target);
            if (!straight.IsEmpty)
            {
                WriteTensor(target, straight, flipHorizontal: false);
            }

            if (!flipped.IsEmpty)
            {
                WriteTensor(target, flipped, flipHorizontal: true);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(resized);
        }
    }

    // Reads Width x Height RGBA pixels and writes (pixel * Scale - mean) / std per channel in the tensor's layout.
    private void WriteTensor(ReadOnlySpan<byte> rgba, Span<float> tensor, bool flipHorizontal)
    {
        int width = Width;
        int height = Height;
        float scale = Scale;
        float[]? meanImage = MeanImage;
        bool planar = Layout == TensorLayout.Nchw;
        for (int c = 0; c < 3; c++)
        {
            int sourceChannel = ChannelOrder == ChannelOrder.Rgb ? c : 2 - c;
            float mean = Mean[c];
            float std = Std[c];
            int channelStart = planar ? c * width * height : c;
            int step = planar ? 1 : 3;
            for (int y = 0; y < height; y++)
            {
                int row = y * width;
                for (int x = 0; x < width; x++)
                {
                    int sourceX = flipHorizontal ? width - 1 - x : x;
                    int index = channelStart + (row + x) * step;
                    float subtrahend = meanImage is null ? mean : meanImage[index];
                    // A true division rather than a product with a precomputed 1 / std, so each value is the
                    // correctly rounded quotient that a reference which divides also computes.
                    tensor[index] = (rgba[(row + sourceX) * 4 + sourceChannel] * scale - subtrahend) / std;
                }
            }
        }
    }
}
