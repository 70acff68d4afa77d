using MLNetRetrieval.Images.Decoding;
using SkiaSharp;

namespace MLNetRetrieval.Images.Preprocessing;

/// <summary>Fits a decoded image to the tensor size with Skia, the way ML.NET 6.0's <c>ResizeImages</c> does.</summary>
internal static class ImageResizer
{
    // ML.NET's MLImage sets SKFilterQuality.High on the paint. Skia's Mitchell cubic filter without mipmaps gives the
    // same pixels as ML.NET 6.0 on SkiaSharp 3.119, which the preprocessing tests check pixel for pixel.
    private static readonly SKSamplingOptions Sampling = new(SKCubicResampler.Mitchell);

    /// <summary>Draws <paramref name="image"/> into <paramref name="rgba"/>, width * height * 4 bytes (RGBA).</summary>
    /// <remarks>Pixels the drawn rectangle does not cover stay black, as in ML.NET (see <see cref="CropRectangle"/>).</remarks>
    public static unsafe void Resize(RgbaImage image, ImageResizeMode mode, int width, int height, Span<byte> rgba)
    {
        Span<byte> target = rgba[..checked(width * height * 4)];
        target.Clear();
        if (image.Width == width && image.Height == height)
        {
            // Same size: a plain copy. ML.NET's draw returns the same pixels in this case (a test checks it), though
            // a shift without scaling, as in a crop, still goes through the cubic filter.
            image.Pixels.CopyTo(target);
            return;
        }

        SKRect destinationRect = mode == ImageResizeMode.Stretch
            ? new SKRect(0, 0, width, height)
            : CropRectangle(image.Width, image.Height, width, height);

        var sourceInfo = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var targetInfo = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        fixed (byte* sourcePixels = image.Pixels)
        fixed (byte* targetPixels = target)
        {
            using var sourceImage = SKImage.FromPixels(sourceInfo, (IntPtr)sourcePixels, sourceInfo.RowBytes)
                ?? throw new InvalidOperationException($"Skia could not wrap a {image.Width}x{image.Height} image.");
            using var surface = SKSurface.Create(targetInfo, (IntPtr)targetPixels, targetInfo.RowBytes)
                ?? throw new InvalidOperationException($"Skia could not create a {width}x{height} surface.");
            surface.Canvas.DrawImage(sourceImage, new SKRect(0, 0, image.Width, image.Height), destinationRect, Sampling, null);
            surface.Flush();
        }
    }

    /// <summary>
    /// Computes the destination rectangle of ML.NET's centre crop: scale by the larger of the two aspect ratios, centre,
    /// and truncate offset and size to integers in single precision. The truncation can leave the last row or column
    /// one pixel short of the target, which then stays black in ML.NET and here.
    /// </summary>
    internal static SKRect CropRectangle(int sourceWidth, int sourceHeight, int width, int height)
    {
        float widthAspect = (float)width / sourceWidth;
        float heightAspect = (float)height / sourceHeight;
        int destinationX = 0;
        int destinationY = 0;
        float aspect;
        if (heightAspect < widthAspect)
        {
            aspect = widthAspect;
            destinationY = (int)((height - (sourceHeight * aspect)) / 2);
        }
        else
        {
            aspect = heightAspect;
            destinationX = (int)((width - (sourceWidth * aspect)) / 2);
        }

        int destinationWidth = (int)(sourceWidth * aspect);
        int destinationHeight = (int)(sourceHeight * aspect);
        return new SKRect(destinationX, destinationY, destinationX + destinationWidth, destinationY + destinationHeight);
    }
}
