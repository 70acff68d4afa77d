using SkiaSharp;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>One transformation that turns an original into a near-duplicate query, in the style of INRIA Copydays.</summary>
internal enum CopyAttack
{
    /// <summary>Crop that keeps 80 % of the area, same aspect ratio, at a random position.</summary>
    Crop80,

    /// <summary>Crop that keeps 50 % of the area.</summary>
    Crop50,

    /// <summary>Crop that keeps 30 % of the area.</summary>
    Crop30,

    /// <summary>Re-encoded as JPEG at quality 50.</summary>
    Jpeg50,

    /// <summary>Re-encoded as JPEG at quality 20.</summary>
    Jpeg20,

    /// <summary>Re-encoded as JPEG at quality 10.</summary>
    Jpeg10,

    /// <summary>Width and height scaled to 1/4 (1/16 of the pixels).</summary>
    Downscale4,

    /// <summary>Rotated by 2 to 6 degrees either way, then cut to the largest centred rectangle of the original aspect ratio with no empty corners.</summary>
    Rotate,

    /// <summary>Contrast scaled by 0.6–0.8 or 1.25–1.5 around mid-grey, brightness shifted by 20–40 levels either way.</summary>
    BrightnessContrast,

    /// <summary>Converted to grayscale (ITU-R BT.601 luma) and stored as three equal channels.</summary>
    Grayscale,

    /// <summary>A line of white text with a black outline, its height 8–12 % of the image height, at a random position.</summary>
    TextOverlay,
}

/// <summary>An attacked copy: its encoded file and where it came from in the original.</summary>
/// <param name="Attack">The attack.</param>
/// <param name="Encoded">The JPEG file.</param>
/// <param name="Width">Width of the copy in pixels.</param>
/// <param name="Height">Height of the copy in pixels.</param>
/// <param name="Region">For crops, the kept rectangle in original pixel coordinates; otherwise the whole original.</param>
/// <param name="AngleDegrees">For rotations, the angle (positive is clockwise); otherwise 0.</param>
internal sealed record AttackedCopy(CopyAttack Attack, byte[] Encoded, int Width, int Height, SKRectI Region, float AngleDegrees);

/// <summary>
/// Makes Copydays-style attacked copies of an image. Every random choice comes from a generator seeded by
/// (seed, original index, attack), so a copy does not depend on which other copies are made or in what order.
/// </summary>
/// <remarks>
/// Copies are stored as JPEG: the JPEG attacks at their own quality, every other attack at
/// <see cref="StorageQuality"/>, as Copydays stores its crops and strong attacks as JPEG too. So every
/// copy except the three JPEG ones also carries mild compression.
/// </remarks>
internal sealed class CopyAttackGenerator
{
    /// <summary>JPEG quality of the copies whose attack is not itself a JPEG quality.</summary>
    public const int StorageQuality = 95;

    private readonly int _seed;
    private readonly SKTypeface _typeface;

    /// <summary>Creates a generator.</summary>
    /// <param name="seed">Seed of every random choice.</param>
    /// <param name="fontPath">TrueType font for the text overlay, loaded from its file because the SkiaSharp.NativeAssets.Linux.NoDependencies build does not use fontconfig.</param>
    public CopyAttackGenerator(int seed, string fontPath)
    {
        if (!File.Exists(fontPath))
        {
            throw new FileNotFoundException(
                $"The font for the text overlay was not found at '{fontPath}'. Install fonts-dejavu-core or pass --font PATH.", fontPath);
        }

        _seed = seed;
        _typeface = SKTypeface.FromFile(fontPath)
            ?? throw new InvalidDataException($"Skia could not load the font '{fontPath}'. Pass a TrueType file with --font.");
    }

    /// <summary>Every attack, in table order.</summary>
    public static IReadOnlyList<CopyAttack> AllAttacks { get; } = Enum.GetValues<CopyAttack>();

    /// <summary>Returns the fraction of the original area that a crop attack keeps, or null for other attacks.</summary>
    /// <param name="attack">The attack.</param>
    /// <returns>0.8, 0.5, 0.3 or null.</returns>
    public static double? CropAreaFraction(CopyAttack attack) => attack switch
    {
        CopyAttack.Crop80 => 0.8,
        CopyAttack.Crop50 => 0.5,
        CopyAttack.Crop30 => 0.3,
        _ => null,
    };

    /// <summary>Makes one attacked copy.</summary>
    /// <param name="original">The original, opaque, in <see cref="SKColorType.Rgba8888"/>.</param>
    /// <param name="originalIndex">Position of the original in the sample; part of the random seed.</param>
    /// <param name="attack">The attack.</param>
    /// <returns>The copy, encoded as JPEG.</returns>
    public AttackedCopy Apply(SKBitmap original, int originalIndex, CopyAttack attack)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (original.ColorType != SKColorType.Rgba8888)
        {
            throw new ArgumentException($"The original must be Rgba8888, got {original.ColorType}.", nameof(original));
        }

        var random = new Random(DeriveSeed(_seed, originalIndex, attack));
        var whole = new SKRectI(0, 0, original.Width, original.Height);
        switch (attack)
        {
            case CopyAttack.Crop80:
            case CopyAttack.Crop50:
            case CopyAttack.Crop30:
            {
                SKRectI region = ChooseCrop(original.Width, original.Height, CropAreaFraction(attack)!.Value, random);
                using var cropped = new SKBitmap(new SKImageInfo(region.Width, region.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
                if (!original.ExtractSubset(cropped, region))
                {
                    throw new InvalidOperationException($"Skia could not extract the crop {region} from a {original.Width}x{original.Height} image.");
                }

                return Encode(attack, cropped, StorageQuality, region, 0f);
            }

            case CopyAttack.Jpeg50:
                return Encode(attack, original, 50, whole, 0f);
            case CopyAttack.Jpeg20:
                return Encode(attack, original, 20, whole, 0f);
            case CopyAttack.Jpeg10:
                return Encode(attack, original, 10, whole, 0f);
            case CopyAttack.Downscale4:
            {
                int width = Math.Max(1, original.Width / 4);
                int height = Math.Max(1, original.Height / 4);
                using var small = BoxResize(original, width, height);
                return Encode(attack, small, StorageQuality, whole, 0f);
            }

            case CopyAttack.Rotate:
            {
                float angle = (float)((2.0 + (4.0 * random.NextDouble())) * (random.Next(2) == 0 ? -1 : 1));
                using var rotated = Rotate(original, angle);
                return Encode(attack, rotated, StorageQuality, whole, angle);
            }

            case CopyAttack.BrightnessContrast:
            {
                double contrast = random.Next(2) == 0 ? 0.6 + (0.2 * random.NextDouble()) : 1.25 + (0.25 * random.NextDouble());
                double brightness = (20 + (20 * random.NextDouble())) * (random.Next(2) == 0 ? -1 : 1);
                using var changed = MapPixels(original, (r, g, b) => (Level(r, contrast, brightness), Level(g, contrast, brightness), Level(b, contrast, brightness)));
                return Encode(attack, changed, StorageQuality, whole, 0f);
            }

            case CopyAttack.Grayscale:
            {
                using var gray = MapPixels(original, (r, g, b) =>
                {
                    byte y = ClampToByte((0.299 * r) + (0.587 * g) + (0.114 * b));
                    return (y, y, y);
                });
                return Encode(attack, gray, StorageQuality, whole, 0f);
            }

            case CopyAttack.TextOverlay:
            {
                using var withText = DrawText(original, random);
                return Encode(attack, withText, StorageQuality, whole, 0f);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(attack), attack, "Unknown attack.");
        }
    }

    /// <summary>Decodes an image file into opaque RGBA, with transparent pixels composited onto white.</summary>
    /// <param name="path">The file.</param>
    /// <param name="origin">The EXIF orientation stored in the file, which is not applied.</param>
    /// <returns>The pixels, or null when Skia cannot decode the file.</returns>
    public static SKBitmap? DecodeOpaque(string path, out SKEncodedOrigin origin)
    {
        origin = SKEncodedOrigin.TopLeft;
        using var codec = SKCodec.Create(path);
        if (codec is null)
        {
            return null;
        }

        origin = codec.EncodedOrigin;
        using var decoded = SKBitmap.Decode(codec);
        if (decoded is null)
        {
            return null;
        }

        var opaque = new SKBitmap(new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(opaque);
        canvas.Clear(SKColors.White);
        canvas.DrawBitmap(decoded, 0, 0);
        return opaque;
    }

    /// <summary>Scales an image by averaging every source pixel that falls in each destination cell.</summary>
    /// <param name="source">An opaque Rgba8888 image.</param>
    /// <param name="width">Destination width, at most the source width.</param>
    /// <param name="height">Destination height, at most the source height.</param>
    /// <returns>The scaled image.</returns>
    public static SKBitmap BoxResize(SKBitmap source, int width, int height)
    {
        if (width < 1 || width > source.Width || height < 1 || height > source.Height)
        {
            throw new ArgumentOutOfRangeException(
                nameof(width), $"{width}x{height}", $"The target size must be between 1x1 and the source size {source.Width}x{source.Height}.");
        }

        var result = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        ReadOnlySpan<byte> src = source.GetPixelSpan();
        Span<byte> dst = result.GetPixelSpan();
        int srcStride = source.RowBytes;
        int dstStride = result.RowBytes;
        Span<double> sums = stackalloc double[3];
        for (int y = 0; y < height; y++)
        {
            int y0 = (int)((long)y * source.Height / height);
            int y1 = (int)((long)(y + 1) * source.Height / height);
            for (int x = 0; x < width; x++)
            {
                int x0 = (int)((long)x * source.Width / width);
                int x1 = (int)((long)(x + 1) * source.Width / width);
                sums.Clear();
                for (int sy = y0; sy < y1; sy++)
                {
                    ReadOnlySpan<byte> row = src.Slice(sy * srcStride);
                    for (int sx = x0; sx < x1; sx++)
                    {
                        sums[0] += row[sx * 4];
                        sums[1] += row[(sx * 4) + 1];
                        sums[2] += row[(sx * 4) + 2];
                    }
                }

                int count = (y1 - y0) * (x1 - x0);
                int at = (y * dstStride) + (x * 4);
                dst[at] = ClampToByte(sums[0] / count);
                dst[at + 1] = ClampToByte(sums[1] / count);
                dst[at + 2] = ClampToByte(sums[2] / count);
                dst[at + 3] = 255;
            }
        }

        return result;
    }

    // Mixes the three parts so that neighbouring originals and attacks get unrelated streams.
    private static int DeriveSeed(int seed, int originalIndex, CopyAttack attack)
    {
        unchecked
        {
            uint h = (uint)seed * 0x9E3779B1u;
            h = (h ^ (uint)originalIndex) * 0x85EBCA77u;
            h = (h ^ (uint)attack) * 0xC2B2AE3Du;
            h ^= h >> 16;
            return (int)(h & 0x7FFFFFFF);
        }
    }

    // Keeps the aspect ratio: each side is scaled by sqrt(fraction), so the area is fraction of the original up to rounding.
    private static SKRectI ChooseCrop(int width, int height, double fraction, Random random)
    {
        double side = Math.Sqrt(fraction);
        int cropWidth = Math.Clamp((int)Math.Round(width * side), 1, width);
        int cropHeight = Math.Clamp((int)Math.Round(height * side), 1, height);
        int left = random.Next(width - cropWidth + 1);
        int top = random.Next(height - cropHeight + 1);
        return new SKRectI(left, top, left + cropWidth, top + cropHeight);
    }

    // The largest centred rectangle of scale s, (s*w) x (s*h), that lies inside the image rotated by angle:
    // rotated back, it must fit in w x h, so s*(w*cos + h*sin) <= w and s*(w*sin + h*cos) <= h.
    private static SKBitmap Rotate(SKBitmap original, float angleDegrees)
    {
        double radians = Math.Abs(angleDegrees) * Math.PI / 180.0;
        double cos = Math.Cos(radians);
        double sin = Math.Sin(radians);
        int w = original.Width;
        int h = original.Height;
        double scale = Math.Min(w / ((w * cos) + (h * sin)), h / ((w * sin) + (h * cos)));
        int width = Math.Max(1, (int)Math.Floor(w * scale));
        int height = Math.Max(1, (int)Math.Floor(h * scale));

        var result = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(result);
        using var image = SKImage.FromBitmap(original);
        canvas.Clear(SKColors.Black);
        canvas.Translate(width / 2f, height / 2f);
        canvas.RotateDegrees(angleDegrees);
        canvas.Translate(-w / 2f, -h / 2f);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        return result;
    }

    private static SKBitmap MapPixels(SKBitmap original, Func<byte, byte, byte, (byte R, byte G, byte B)> map)
    {
        var result = new SKBitmap(original.Info);
        ReadOnlySpan<byte> src = original.GetPixelSpan();
        Span<byte> dst = result.GetPixelSpan();
        for (int i = 0; i + 3 < src.Length; i += 4)
        {
            (byte r, byte g, byte b) = map(src[i], src[i + 1], src[i + 2]);
            dst[i] = r;
            dst[i + 1] = g;
            dst[i + 2] = b;
            dst[i + 3] = 255;
        }

        return result;
    }

    private SKBitmap DrawText(SKBitmap original, Random random)
    {
        var result = original.Copy()
            ?? throw new InvalidOperationException($"Skia could not copy a {original.Width}x{original.Height} image.");
        string text = $"COPY {random.Next(1000, 10000)} © MLNetRetrieval";
        using var font = new SKFont(_typeface, original.Height * (0.08f + (0.04f * (float)random.NextDouble())));
        float textWidth = font.MeasureText(text);
        SKFontMetrics metrics = font.Metrics;
        float ascent = metrics.Ascent;
        float descent = metrics.Descent;
        float x = (float)(random.NextDouble() * Math.Max(0, original.Width - textWidth));
        float y = -ascent + (float)(random.NextDouble() * Math.Max(0, original.Height + ascent - descent));

        using var canvas = new SKCanvas(result);
        using var outline = new SKPaint { Color = SKColors.Black, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = font.Size / 12 };
        using var fill = new SKPaint { Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Fill };
        canvas.DrawText(text, x, y, SKTextAlign.Left, font, outline);
        canvas.DrawText(text, x, y, SKTextAlign.Left, font, fill);
        return result;
    }

    private static AttackedCopy Encode(CopyAttack attack, SKBitmap pixels, int quality, SKRectI region, float angle)
    {
        using var image = SKImage.FromBitmap(pixels);
        using SKData data = image.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new InvalidOperationException($"Skia could not encode a {pixels.Width}x{pixels.Height} image as JPEG.");
        return new AttackedCopy(attack, data.ToArray(), pixels.Width, pixels.Height, region, angle);
    }

    private static byte Level(byte value, double contrast, double brightness) =>
        ClampToByte(((value - 127.5) * contrast) + 127.5 + brightness);

    private static byte ClampToByte(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
