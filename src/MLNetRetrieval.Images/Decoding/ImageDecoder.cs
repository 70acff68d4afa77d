using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace MLNetRetrieval.Images.Decoding;

/// <summary>
/// Decodes image files (PNG, JPEG, GIF, BMP, WebP, ICO, WBMP) into <see cref="DecodedImage"/> with SkiaSharp's
/// <see cref="SKCodec"/>. Does not throw for bad input (only running out of memory escapes): every problem becomes an <see cref="ImageFailure"/>. Safe to
/// call from many threads because each call owns its codec and buffers.
/// </summary>
/// <remarks>
/// <para>The header is read first, and a width, height, pixel count or file size over the
/// <see cref="ImageDecoderOptions"/> limits is rejected before any pixel buffer is allocated.</para>
/// <para>Conversions: grayscale, palette, 16-bit and CMYK sources become 8-bit RGB (Skia does the conversion,
/// without colour management); the EXIF orientation of a JPEG is applied; transparent pixels are composited
/// onto white with the unpremultiplied alpha, c' = (a * c + (255 - a) * 255) / 255, rounded; an animated GIF
/// or WebP yields its first frame. ML.NET's <c>LoadImages</c> differs in the alpha and orientation steps: it keeps
/// premultiplied alpha and ignores EXIF orientation.</para>
/// <para>A file whose pixel data ends early is a <see cref="ImageFailureKind.Truncated"/> failure even though Skia
/// could return the rows it has.</para>
/// </remarks>
public static class ImageDecoder
{
    /// <summary>Decodes a file.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="options">Limits; null for the defaults.</param>
    /// <param name="image">The image when decoding succeeded.</param>
    /// <param name="failure">The reason when it did not.</param>
    /// <returns>True when <paramref name="image"/> contains the whole image.</returns>
    public static bool TryDecode(string path, ImageDecoderOptions? options, [NotNullWhen(true)] out DecodedImage? image, [NotNullWhen(false)] out ImageFailure? failure)
    {
        bool ok = TryDecodeRgba(path, options, out RgbaImage? rgba, out failure);
        using (rgba)
        {
            image = rgba?.ToDecodedImage();
        }

        return ok;
    }

    /// <summary>Decodes encoded bytes already in memory.</summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="sourceName">Name used in failure reasons.</param>
    /// <param name="options">Limits; null for the defaults.</param>
    /// <param name="image">The image when decoding succeeded.</param>
    /// <param name="failure">The reason when it did not.</param>
    /// <returns>True when <paramref name="image"/> contains the whole image.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, string sourceName, ImageDecoderOptions? options, [NotNullWhen(true)] out DecodedImage? image, [NotNullWhen(false)] out ImageFailure? failure)
    {
        bool ok = TryDecodeRgba(encoded, sourceName, options, out RgbaImage? rgba, out failure);
        using (rgba)
        {
            image = rgba?.ToDecodedImage();
        }

        return ok;
    }

    /// <summary>Decodes a file into a pooled RGBA image, which the caller disposes.</summary>
    internal static bool TryDecodeRgba(string path, ImageDecoderOptions? options, [NotNullWhen(true)] out RgbaImage? image, [NotNullWhen(false)] out ImageFailure? failure)
    {
        image = null;
        options ??= new ImageDecoderOptions();
        string source = path ?? string.Empty;
        if (string.IsNullOrWhiteSpace(path))
        {
            failure = new ImageFailure(source, ImageFailureKind.NotFound, "The image path is empty.");
            return false;
        }

        byte[] bytes;
        try
        {
            if (Directory.Exists(path))
            {
                failure = new ImageFailure(source, ImageFailureKind.Unreadable, $"The image path '{path}' is a directory, not a file.");
                return false;
            }

            // A symbolic link's own length is that of the target's path name, so the checks below use the final target.
            var info = new FileInfo(path);
            FileSystemInfo target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
            if (!target.Exists)
            {
                failure = new ImageFailure(source, ImageFailureKind.NotFound, DescribeMissing(path, target));
                return false;
            }

            string? special = FileTypeProbe.DescribeIfNotRegularFile(target.FullName);
            if (special is not null)
            {
                string what = ReferenceEquals(target, info) ? $"'{path}'" : $"'{path}' (link to '{target.FullName}')";
                failure = new ImageFailure(source, ImageFailureKind.Unreadable, $"The image path {what} is {special}, not a regular file.");
                return false;
            }

            long length = ((FileInfo)target).Length;
            if (length == 0)
            {
                failure = new ImageFailure(source, ImageFailureKind.Empty, $"The image file '{path}' is empty (0 bytes).");
                return false;
            }

            if (length > options.MaxFileBytes)
            {
                failure = new ImageFailure(source, ImageFailureKind.TooLarge,
                    $"The image file '{path}' has {length} bytes, over the limit of {options.MaxFileBytes} (ImageDecoderOptions.MaxFileBytes).");
                return false;
            }

            if (!TryReadBounded(path, options.MaxFileBytes, out bytes))
            {
                failure = new ImageFailure(source, ImageFailureKind.TooLarge,
                    $"The image file '{path}' grew past the limit of {options.MaxFileBytes} bytes (ImageDecoderOptions.MaxFileBytes) while it was read.");
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
        {
            failure = new ImageFailure(source, ImageFailureKind.Unreadable, $"The image file '{path}' could not be read: {e.Message}");
            return false;
        }

        return TryDecodeRgba(bytes, source, options, out image, out failure);
    }

    private static string DescribeMissing(string path, FileSystemInfo target) =>
        target is FileInfo file && file.FullName != Path.GetFullPath(path)
            ? $"The image file '{path}' is a link to '{target.FullName}', which does not exist."
            : $"The image file '{path}' does not exist.";

    /// <summary>
    /// Reads the whole file, or returns false once it has more than <paramref name="maxBytes"/> bytes. At most
    /// <paramref name="maxBytes"/> + 1 bytes are read, so a file that grows, or a device, cannot exhaust memory.
    /// </summary>
    private static bool TryReadBounded(string path, long maxBytes, out byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long limit = Math.Min(maxBytes, Array.MaxLength - 1L);
        long expected = stream.CanSeek ? Math.Min(stream.Length + 1, limit + 1) : Math.Min(81920L, limit + 1);
        var buffer = new byte[Math.Max(expected, 1)];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled > limit)
                {
                    bytes = [];
                    return false;
                }

                Array.Resize(ref buffer, (int)Math.Min(limit + 1, Math.Max(2L * buffer.Length, 4096)));
            }

            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        if (filled > limit)
        {
            bytes = [];
            return false;
        }

        Array.Resize(ref buffer, filled);
        bytes = buffer;
        return true;
    }

    /// <summary>Decodes encoded bytes into a pooled RGBA image, which the caller disposes.</summary>
    internal static bool TryDecodeRgba(ReadOnlySpan<byte> encoded, string sourceName, ImageDecoderOptions? options, [NotNullWhen(true)] out RgbaImage? image, [NotNullWhen(false)] out ImageFailure? failure)
    {
        image = null;
        options ??= new ImageDecoderOptions();
        sourceName ??= string.Empty;
        if (encoded.IsEmpty)
        {
            failure = new ImageFailure(sourceName, ImageFailureKind.Empty, $"The image '{sourceName}' is empty (0 bytes).");
            return false;
        }

        if (encoded.Length > options.MaxFileBytes)
        {
            failure = new ImageFailure(sourceName, ImageFailureKind.TooLarge,
                $"The image '{sourceName}' has {encoded.Length} bytes, over the limit of {options.MaxFileBytes} (ImageDecoderOptions.MaxFileBytes).");
            return false;
        }

        try
        {
            return DecodeWithCodec(encoded, sourceName, options, out image, out failure);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // SkiaSharp turns a few native failures into managed exceptions, such as a stream it cannot rewind.
            // The contract is one failure per bad image, so none of them escapes.
            failure = new ImageFailure(sourceName, ImageFailureKind.Corrupt, $"The image '{sourceName}' could not be decoded: {e.Message}");
            return false;
        }
    }

    private static unsafe bool DecodeWithCodec(ReadOnlySpan<byte> encoded, string sourceName, ImageDecoderOptions options, out RgbaImage? image, [NotNullWhen(false)] out ImageFailure? failure)
    {
        image = null;
        using var data = SKData.CreateCopy(encoded);
        // The codec takes ownership of the stream and releases it with itself.
        using var codec = SKCodec.Create(new SKMemoryStream(data), out SKCodecResult openResult);
        if (codec is null)
        {
            failure = HeaderFailure(encoded, sourceName, openResult);
            return false;
        }

        int width = codec.Info.Width;
        int height = codec.Info.Height;
        if (width < 1 || height < 1)
        {
            failure = new ImageFailure(sourceName, ImageFailureKind.Corrupt, $"The image '{sourceName}' declares a size of {width}x{height} pixels.");
            return false;
        }

        long pixelCount = (long)width * height;
        if (width > options.MaxSide || height > options.MaxSide || pixelCount > options.MaxPixelCount)
        {
            failure = new ImageFailure(sourceName, ImageFailureKind.TooLarge,
                $"The image '{sourceName}' declares {width}x{height} pixels, over the limits of {options.MaxSide} per side and " +
                $"{options.MaxPixelCount} pixels (ImageDecoderOptions.MaxSide, MaxPixelCount); nothing was decoded.");
            return false;
        }

        // Unpremultiplied RGBA keeps the colour of half-transparent pixels exact for the white composite.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var decoded = new RgbaImage(width, height, ArrayPool<byte>.Shared.Rent(checked(width * height * 4)));
        SKCodecResult result;
        fixed (byte* pixels = decoded.Pixels)
        {
            result = codec.GetPixels(info, (IntPtr)pixels, info.RowBytes, new SKCodecOptions(0));
        }

        if (result != SKCodecResult.Success)
        {
            decoded.Dispose();
            failure = PixelFailure(sourceName, codec.EncodedFormat, result);
            return false;
        }

        if (codec.Info.AlphaType != SKAlphaType.Opaque)
        {
            CompositeOnWhite(MemoryMarshal.Cast<byte, uint>(decoded.Pixels));
        }

        image = Orient(decoded, codec.EncodedOrigin);
        failure = null;
        return true;
    }

    private static ImageFailure HeaderFailure(ReadOnlySpan<byte> encoded, string sourceName, SKCodecResult result)
    {
        string? format = SniffFormat(encoded);
        if (format is null)
        {
            return new ImageFailure(sourceName, ImageFailureKind.UnsupportedFormat,
                $"The image '{sourceName}' is not in a supported format (PNG, JPEG, GIF, BMP, WebP, ICO, WBMP); its first bytes are {FirstBytes(encoded)}.");
        }

        // Skia reports a PNG header that fails its CRC as incomplete input, like one that is cut short, so the
        // CRC check separates the two.
        bool truncated = result == SKCodecResult.IncompleteInput && !(format == "PNG" && PngHeaderIsDamaged(encoded));
        return truncated
            ? new ImageFailure(sourceName, ImageFailureKind.Truncated, $"The {format} image '{sourceName}' ends inside its header ({encoded.Length} bytes).")
            : new ImageFailure(sourceName, ImageFailureKind.Corrupt, $"The {format} image '{sourceName}' has an invalid header (Skia: {result}).");
    }

    private static ImageFailure PixelFailure(string sourceName, SKEncodedImageFormat format, SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => new ImageFailure(sourceName, ImageFailureKind.Truncated,
            $"The {format} image '{sourceName}' ends before its last pixel row; the partial image was discarded."),
        SKCodecResult.InvalidConversion or SKCodecResult.Unimplemented or SKCodecResult.InvalidScale => new ImageFailure(sourceName,
            ImageFailureKind.UnsupportedFormat, $"The {format} image '{sourceName}' uses a variant Skia cannot convert to RGB (Skia: {result})."),
        _ => new ImageFailure(sourceName, ImageFailureKind.Corrupt,
            $"The {format} image '{sourceName}' has invalid pixel data (Skia: {result}); the partial image was discarded."),
    };

    // Recognises the signatures of the formats Skia decodes, so that a known format with a broken header is
    // reported as corrupt rather than unsupported.
    private static string? SniffFormat(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
        {
            return "PNG";
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "JPEG";
        }

        if (b.StartsWith("GIF8"u8))
        {
            return "GIF";
        }

        if (b.StartsWith("BM"u8))
        {
            return "BMP";
        }

        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return "WebP";
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0, 0, 1, 0]))
        {
            return "ICO";
        }

        return null;
    }

    // A complete PNG header is the 8-byte signature and the IHDR chunk: length (4), type (4), 13 data bytes, CRC (4).
    private static bool PngHeaderIsDamaged(ReadOnlySpan<byte> png)
    {
        const int HeaderEnd = 8 + 4 + 4 + 13 + 4;
        if (png.Length < HeaderEnd)
        {
            return false;
        }

        if (!png.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return true;
        }

        uint stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.Slice(29, 4));
        return Crc32(png.Slice(12, 4 + 13)) != stored;
    }

    // CRC-32 as PNG defines it (ISO 3309, reflected polynomial 0xEDB88320), bit by bit: it only covers 17 bytes.
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }

    private static string FirstBytes(ReadOnlySpan<byte> b) => Convert.ToHexString(b[..Math.Min(8, b.Length)]);

    // Returns the image as displayed under an EXIF orientation and disposes the stored one when they differ. The
    // switch maps a source pixel (x, y) of a w x h buffer to its displayed position. The four transposing
    // orientations swap width and height.
    private static RgbaImage Orient(RgbaImage stored, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft)
        {
            return stored;
        }

        int w = stored.Width;
        int h = stored.Height;
        bool transposes = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outWidth = transposes ? h : w;
        var oriented = new RgbaImage(outWidth, transposes ? w : h, ArrayPool<byte>.Shared.Rent(w * h * 4));
        ReadOnlySpan<uint> source = MemoryMarshal.Cast<byte, uint>(stored.Pixels);
        Span<uint> target = MemoryMarshal.Cast<byte, uint>(oriented.Pixels);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                (int ox, int oy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (h - 1 - y, x),
                    SKEncodedOrigin.RightBottom => (h - 1 - y, w - 1 - x),
                    SKEncodedOrigin.LeftBottom => (y, w - 1 - x),
                    _ => (x, y),
                };
                target[oy * outWidth + ox] = source[y * w + x];
            }
        }

        stored.Dispose();
        return oriented;
    }

    // Composites unpremultiplied RGBA pixels onto white in place: c' = (a * c + (255 - a) * 255) / 255, rounded,
    // and alpha becomes 255. Each uint is one pixel in memory order R, G, B, A, read as little-endian.
    private static void CompositeOnWhite(Span<uint> pixels)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            uint pixel = pixels[i];
            uint a = pixel >> 24;
            if (a == 255)
            {
                continue;
            }

            uint white = (255 - a) * 255 + 127;
            uint r = (a * (pixel & 0xFF) + white) / 255;
            uint g = (a * ((pixel >> 8) & 0xFF) + white) / 255;
            uint b = (a * ((pixel >> 16) & 0xFF) + white) / 255;
            pixels[i] = r | (g << 8) | (b << 16) | 0xFF000000u;
        }
    }
}
