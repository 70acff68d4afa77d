using System.Buffers;

namespace MLNetRetrieval.Images.Decoding;

/// <summary>
/// An opaque decoded image as RGBA bytes (alpha always 255) in a pooled buffer: the form Skia resizes from, so
/// the embedding pipeline skips the RGB copy of <see cref="DecodedImage"/>. Dispose returns the buffer.
/// </summary>
internal sealed class RgbaImage : IDisposable
{
    private byte[]? _buffer;

    /// <summary>Takes a buffer rented from <see cref="ArrayPool{T}.Shared"/>; it returns there on dispose.</summary>
    public RgbaImage(int width, int height, byte[] rentedBuffer)
    {
        Width = width;
        Height = height;
        _buffer = rentedBuffer;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Width * Height * 4 bytes, rows top to bottom.</summary>
    public Span<byte> Pixels => (_buffer ?? throw new ObjectDisposedException(nameof(RgbaImage))).AsSpan(0, Width * Height * 4);

    /// <summary>Copies an RGB image into a new pooled RGBA image.</summary>
    public static RgbaImage FromRgb(DecodedImage image)
    {
        var rgba = new RgbaImage(image.Width, image.Height, ArrayPool<byte>.Shared.Rent(checked(image.Width * image.Height * 4)));
        ReadOnlySpan<byte> rgb = image.Rgb;
        Span<byte> pixels = rgba.Pixels;
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            pixels[i * 4] = rgb[i * 3];
            pixels[i * 4 + 1] = rgb[i * 3 + 1];
            pixels[i * 4 + 2] = rgb[i * 3 + 2];
            pixels[i * 4 + 3] = 255;
        }

        return rgba;
    }

    /// <summary>Copies the pixels out as a <see cref="DecodedImage"/> (RGB).</summary>
    public DecodedImage ToDecodedImage()
    {
        ReadOnlySpan<byte> pixels = Pixels;
        byte[] rgb = GC.AllocateUninitializedArray<byte>(Width * Height * 3);
        for (int i = 0, n = Width * Height; i < n; i++)
        {
            rgb[i * 3] = pixels[i * 4];
            rgb[i * 3 + 1] = pixels[i * 4 + 1];
            rgb[i * 3 + 2] = pixels[i * 4 + 2];
        }

        return new DecodedImage(Width, Height, rgb);
    }

    public void Dispose()
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
