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
/// after resizing, for each channel c in <see cref="ChannelOrder"/>.
/// </summary>
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

    /// <summary>Number of floats one image takes: 3 * Width * Height.</summary>
    public int TensorLength => checked(3 * Width * Height);

    /// <summary>Writes the tensor of one image.</summary>
    /// <param name="image">The decoded image.</param>
    /// <param name="destination">At least <see cref="TensorLength"/> floats.</param>
    /// <param name="flipHorizontal">Mirror the image left to right (for flip averaging).</param>
    public void Write(DecodedImage image, Span<float> destination, bool flipHorizontal = false) =>
        throw new NotImplementedException();
}
