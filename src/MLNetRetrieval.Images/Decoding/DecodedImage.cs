namespace MLNetRetrieval.Images.Decoding;

/// <summary>
/// A fully decoded image as 8-bit RGB, interleaved, row-major, with EXIF orientation already applied.
/// Transparent pixels are composited onto white; grayscale, palette, 16-bit and CMYK sources are converted.
/// </summary>
public sealed class DecodedImage
{
    /// <summary>Wraps pixels already in RGB order.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="rgb">Width * height * 3 bytes.</param>
    public DecodedImage(int width, int height, byte[] rgb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentNullException.ThrowIfNull(rgb);
        if (rgb.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException(
                $"The pixel buffer has {rgb.LongLength} bytes but a {width}x{height} RGB image needs {(long)width * height * 3}.",
                nameof(rgb));
        }

        Width = width;
        Height = height;
        Rgb = rgb;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels: R, G, B bytes for each pixel, rows top to bottom.</summary>
    public byte[] Rgb { get; }
}
