using MLNetRetrieval.Images.Decoding;
using SkiaSharp;
using static MLNetRetrieval.Tests.Images.Core.ImageTestFiles;

namespace MLNetRetrieval.Tests.Images.Core;

public sealed class ImageDecoderTests
{
    // JPEG is lossy; solid 8x8 blocks come back within this many levels per channel.
    private const int JpegTolerance = 12;

    [Fact]
    public void MissingFileIsNotFound()
    {
        using var folder = CreateTempFolder();

        ImageFailure failure = DecodeFailure(Path.Combine(folder.Path, "absent.png"));

        Assert.Equal(ImageFailureKind.NotFound, failure.Kind);
        Assert.Contains("absent.png", failure.Reason);
    }

    [Fact]
    public void DirectoryIsUnreadable()
    {
        using var folder = CreateTempFolder();

        ImageFailure failure = DecodeFailure(folder.Path);

        Assert.Equal(ImageFailureKind.Unreadable, failure.Kind);
    }

    [Fact]
    public void EmptyFileIsEmpty()
    {
        using var folder = CreateTempFolder();

        ImageFailure fromFile = DecodeFailure(folder.Write("empty.png", []));
        bool ok = ImageDecoder.TryDecode(ReadOnlySpan<byte>.Empty, "memory", null, out _, out ImageFailure? fromBytes);

        Assert.Equal(ImageFailureKind.Empty, fromFile.Kind);
        Assert.False(ok);
        Assert.Equal(ImageFailureKind.Empty, fromBytes!.Kind);
    }

    [Fact]
    public void TextFileIsUnsupportedFormat()
    {
        using var folder = CreateTempFolder();

        ImageFailure failure = DecodeFailure(folder.Write("notes.png", "just some text, not pixels"u8.ToArray()));

        Assert.Equal(ImageFailureKind.UnsupportedFormat, failure.Kind);
        Assert.Contains("6A75737420736F6D", failure.Reason);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    public void TruncatedFileIsTruncated(SKEncodedImageFormat format)
    {
        using var folder = CreateTempFolder();
        byte[] whole = EncodeRgba(64, 64, NoiseRgba(64, 64, seed: 3), format, quality: 90);

        ImageFailure failure = DecodeFailure(folder.Write("cut", whole[..(whole.Length * 6 / 10)]));

        Assert.Equal(ImageFailureKind.Truncated, failure.Kind);
    }

    [Fact]
    public void TruncatedClipArtIsTruncated()
    {
        using var folder = CreateTempFolder();
        byte[] whole = File.ReadAllBytes(Image("jigsaw.png"));

        ImageFailure failure = DecodeFailure(folder.Write("jigsaw-cut.png", whole[..(whole.Length / 2)]));

        Assert.Equal(ImageFailureKind.Truncated, failure.Kind);
    }

    [Fact]
    public void CutHeaderIsTruncated()
    {
        byte[] whole = File.ReadAllBytes(Image("frog.png"));

        ImageFailure failure = DecodeFailure(whole[..20], "frog-20-bytes.png");

        Assert.Equal(ImageFailureKind.Truncated, failure.Kind);
    }

    [Fact]
    public void DamagedHeaderIsCorrupt()
    {
        using var folder = CreateTempFolder();
        byte[] bytes = File.ReadAllBytes(Image("frog.png"));
        bytes[18] ^= 0x5A;  // inside IHDR's width, so the chunk CRC no longer matches

        ImageFailure failure = DecodeFailure(folder.Write("frog-bad-header.png", bytes));

        Assert.Equal(ImageFailureKind.Corrupt, failure.Kind);
        Assert.Contains("PNG", failure.Reason);
    }

    [Fact]
    public void DamagedPixelDataIsCorrupt()
    {
        using var folder = CreateTempFolder();
        byte[] bytes = File.ReadAllBytes(Image("frog.png"));
        int idat = bytes.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 8; i < idat + 40; i++)
        {
            bytes[i] = 0xFF;  // garbles the start of the zlib stream
        }

        ImageFailure failure = DecodeFailure(folder.Write("frog-bad-pixels.png", bytes));

        Assert.Equal(ImageFailureKind.Corrupt, failure.Kind);
    }

    [Fact]
    public void HugeHeaderIsTooLarge()
    {
        ImageFailure failure = DecodeFailure(PngHeaderOnly(100_000, 100_000), "huge.png");

        Assert.Equal(ImageFailureKind.TooLarge, failure.Kind);
        Assert.Contains("100000x100000", failure.Reason);
    }

    [Fact]
    public void PixelCountLimitIsTooLarge()
    {
        var options = new ImageDecoderOptions { MaxPixelCount = 160 * 160 - 1 };

        bool ok = ImageDecoder.TryDecode(Image("printer.png"), options, out _, out ImageFailure? failure);

        Assert.False(ok);
        Assert.Equal(ImageFailureKind.TooLarge, failure!.Kind);
    }

    [Fact]
    public void FileSizeLimitIsTooLarge()
    {
        var options = new ImageDecoderOptions { MaxFileBytes = 1000 };

        bool ok = ImageDecoder.TryDecode(Image("printer.png"), options, out _, out ImageFailure? failure);

        Assert.False(ok);
        Assert.Equal(ImageFailureKind.TooLarge, failure!.Kind);
    }

    [Fact]
    public void GrayscalePngRepeatsGray()
    {
        byte[] png = Png(3, 1, 8, 0, [[0, 128, 255]]);

        DecodedImage image = DecodeOrFail(png, "gray.png");

        Assert.Equal([0, 0, 0, 128, 128, 128, 255, 255, 255], image.Rgb);
    }

    [Fact]
    public void SixteenBitPngKeepsHighByte()
    {
        // One RGB pixel of 16-bit samples 0x1234, 0xABCD, 0xFF00, big-endian.
        byte[] png = Png(1, 1, 16, 2, [[0x12, 0x34, 0xAB, 0xCD, 0xFF, 0x00]]);

        DecodedImage image = DecodeOrFail(png, "deep.png");

        Assert.InRange(image.Rgb[0], 0x12, 0x13);
        Assert.InRange(image.Rgb[1], 0xAB, 0xAC);
        Assert.InRange(image.Rgb[2], 0xFE, 0xFF);
    }

    [Fact]
    public void PalettePngLooksUpColours()
    {
        byte[] palette = [10, 20, 30, 200, 150, 100];
        byte[] png = Png(3, 1, 8, 3, [[1, 0, 1]], palette);

        DecodedImage image = DecodeOrFail(png, "palette.png");

        Assert.Equal([200, 150, 100, 10, 20, 30, 200, 150, 100], image.Rgb);
    }

    [Fact]
    public void AlphaIsCompositedOnWhite()
    {
        // RGBA pixels: opaque red, half-transparent (alpha 128) dark green, fully transparent black.
        byte[] png = Png(3, 1, 8, 6, [[255, 0, 0, 255, 0, 100, 0, 128, 0, 0, 0, 0]]);

        DecodedImage image = DecodeOrFail(png, "alpha.png");

        // 128 * 100 / 255 + 127 * 255 / 255 = 177.2; the other channels are 127 * 255 / 255 = 127.
        Assert.Equal([255, 0, 0, 127, 177, 127, 255, 255, 255], image.Rgb);
    }

    [Fact]
    public void GrayAlphaIsCompositedOnWhite()
    {
        byte[] png = Png(2, 1, 8, 4, [[0, 255, 0, 0]]);

        DecodedImage image = DecodeOrFail(png, "gray-alpha.png");

        Assert.Equal([0, 0, 0, 255, 255, 255], image.Rgb);
    }

    [Fact]
    public void CmykJpegBecomesRgb()
    {
        Assert.True(ImageDecoder.TryDecode(Image("cmyk.jpg"), null, out DecodedImage? image, out ImageFailure? failure), failure?.Reason);

        (int r, int g, int b) left = Pixel(image, 2, 4);
        (int r, int g, int b) right = Pixel(image, 13, 4);

        Assert.Equal((16, 8), (image.Width, image.Height));
        Assert.Equal((255, 0, 0), left, ColourComparer(48));
        Assert.Equal((0, 0, 255), right, ColourComparer(48));
    }

    [Theory]
    [InlineData(1, 16, 8, "red", "blue")]  // top-left: as stored
    [InlineData(2, 16, 8, "blue", "red")]  // top-right: mirrored
    [InlineData(3, 16, 8, "blue", "red")]  // bottom-right: rotated 180 degrees
    [InlineData(6, 8, 16, "red", "blue")]  // right-top: rotated 90 degrees clockwise, left half on top
    [InlineData(8, 8, 16, "blue", "red")]  // left-bottom: rotated 90 degrees counter-clockwise, left half at the bottom
    public void ExifOrientationIsApplied(ushort orientation, int width, int height, string first, string last)
    {
        // 16x8 pixels: the left 8x8 block red, the right one blue.
        var rgba = new byte[16 * 8 * 4];
        for (int i = 0; i < 16 * 8; i++)
        {
            bool leftHalf = i % 16 < 8;
            rgba[i * 4] = (byte)(leftHalf ? 255 : 0);
            rgba[i * 4 + 2] = (byte)(leftHalf ? 0 : 255);
            rgba[i * 4 + 3] = 255;
        }

        byte[] jpeg = WithExifOrientation(EncodeRgba(16, 8, rgba, SKEncodedImageFormat.Jpeg, quality: 100), orientation);

        DecodedImage image = DecodeOrFail(jpeg, "rotated.jpg");

        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.Equal(Named(first), Pixel(image, 1, 1), ColourComparer(JpegTolerance));
        Assert.Equal(Named(last), Pixel(image, width - 2, height - 2), ColourComparer(JpegTolerance));
    }

    [Fact]
    public void LosslessWebpKeepsPixels()
    {
        byte[] rgba = PatternRgba(5, 3);
        byte[] webp = EncodeLosslessWebp(5, 3, rgba);

        DecodedImage image = DecodeOrFail(webp, "pattern.webp");

        Assert.Equal(ToRgb(rgba), image.Rgb);
    }

    [Fact]
    public void AnimatedGifGivesFirstFrame()
    {
        Assert.True(ImageDecoder.TryDecode(Image("animated.gif"), null, out DecodedImage? image, out ImageFailure? failure), failure?.Reason);

        Assert.Equal((6, 4), (image.Width, image.Height));
        Assert.Equal((255, 0, 0), Pixel(image, 5, 3));
    }

    [Fact]
    public void PngRoundTripIsExact()
    {
        byte[] rgba = PatternRgba(4, 3);

        DecodedImage image = DecodeOrFail(EncodeRgba(4, 3, rgba, SKEncodedImageFormat.Png), "pattern.png");

        Assert.Equal(ToRgb(rgba), image.Rgb);
    }

    [Fact]
    public void BytesAndFileDecodeAlike()
    {
        string path = Image("armadillo.png");

        Assert.True(ImageDecoder.TryDecode(path, null, out DecodedImage? fromFile, out _));
        DecodedImage fromBytes = DecodeOrFail(File.ReadAllBytes(path), path);

        Assert.Equal(fromFile.Rgb, fromBytes.Rgb);
    }

    [Fact]
    public void ParallelDecodingMatchesSequential()
    {
        string[] paths = [.. ClipArt.Select(Image)];
        byte[][] sequential = [.. paths.Select(p => DecodeOrFail(File.ReadAllBytes(p), p).Rgb)];

        var parallel = new byte[paths.Length * 4][];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            ImageDecoder.TryDecode(paths[i % paths.Length], null, out DecodedImage? image, out _);
            parallel[i] = image!.Rgb;
        });

        for (int i = 0; i < parallel.Length; i++)
        {
            Assert.Equal(sequential[i % paths.Length], parallel[i]);
        }
    }

    private static ImageFailure DecodeFailure(string path)
    {
        bool ok = ImageDecoder.TryDecode(path, null, out DecodedImage? image, out ImageFailure? failure);
        Assert.False(ok, $"'{path}' decoded to {image?.Width}x{image?.Height} pixels.");
        Assert.Equal(path, failure!.Source);
        return failure;
    }

    private static ImageFailure DecodeFailure(byte[] bytes, string name)
    {
        bool ok = ImageDecoder.TryDecode(bytes, name, null, out _, out ImageFailure? failure);
        Assert.False(ok);
        return failure!;
    }

    private static byte[] NoiseRgba(int width, int height, int seed)
    {
        var random = new Random(seed);
        var rgba = new byte[width * height * 4];
        random.NextBytes(rgba);
        for (int i = 3; i < rgba.Length; i += 4)
        {
            rgba[i] = 255;
        }

        return rgba;
    }

    private static unsafe byte[] EncodeLosslessWebp(int width, int height, byte[] rgba)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        fixed (byte* pixels = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)pixels, info.RowBytes);
            using SKData data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100)) ?? throw new InvalidOperationException("Skia could not encode WebP.");
            return data.ToArray();
        }
    }

    private static byte[] ToRgb(byte[] rgba)
    {
        var rgb = new byte[rgba.Length / 4 * 3];
        for (int i = 0; i < rgba.Length / 4; i++)
        {
            rgb[i * 3] = rgba[i * 4];
            rgb[i * 3 + 1] = rgba[i * 4 + 1];
            rgb[i * 3 + 2] = rgba[i * 4 + 2];
        }

        return rgb;
    }

    private static (int R, int G, int B) Pixel(DecodedImage image, int x, int y)
    {
        int i = (y * image.Width + x) * 3;
        return (image.Rgb[i], image.Rgb[i + 1], image.Rgb[i + 2]);
    }

    private static (int R, int G, int B) Named(string colour) => colour == "red" ? (255, 0, 0) : (0, 0, 255);

    private static IEqualityComparer<(int R, int G, int B)> ColourComparer(int tolerance) =>
        EqualityComparer<(int R, int G, int B)>.Create(
            (a, b) => Math.Abs(a.R - b.R) <= tolerance && Math.Abs(a.G - b.G) <= tolerance && Math.Abs(a.B - b.B) <= tolerance,
            c => 0);
}
