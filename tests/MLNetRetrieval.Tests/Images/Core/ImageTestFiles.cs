using System.Buffers.Binary;
using System.IO.Compression;
using MLNetRetrieval.Images.Decoding;
using SkiaSharp;

namespace MLNetRetrieval.Tests.Images.Core;

/// <summary>Committed test images and generators for unusual or damaged image files.</summary>
internal static class ImageTestFiles
{
    /// <summary>The five opaque openclipart PNGs (see TestData/images/README.md).</summary>
    public static readonly string[] ClipArt = ["frog.png", "armadillo.png", "printer.png", "algeria.png", "jigsaw.png"];

    public static string ImagesFolder { get; } = FindTestData("images");

    public static string ModelsFolder { get; } = FindTestData("models");

    public static string Image(string name) => Path.Combine(ImagesFolder, name);

    public static string Model(string name) => Path.Combine(ModelsFolder, name);

    /// <summary>A fresh folder under the temp directory, deleted with the returned handle.</summary>
    public static TempFolder CreateTempFolder() => new();

    /// <summary>Encodes RGBA pixels (width * height * 4 bytes, unpremultiplied) with Skia.</summary>
    public static unsafe byte[] EncodeRgba(int width, int height, byte[] rgba, SKEncodedImageFormat format, int quality = 100)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        fixed (byte* pixels = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)pixels, info.RowBytes);
            using SKData data = pixmap.Encode(format, quality) ?? throw new InvalidOperationException($"Skia could not encode {format}.");
            return data.ToArray();
        }
    }

    /// <summary>Pixels of a small test pattern: each pixel has distinct R, G and B values.</summary>
    public static byte[] PatternRgba(int width, int height, byte alpha = 255)
    {
        var rgba = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 4;
                rgba[i] = (byte)(20 + 30 * x);
                rgba[i + 1] = (byte)(200 - 40 * y);
                rgba[i + 2] = (byte)(7 * (x + y) + 1);
                rgba[i + 3] = alpha;
            }
        }

        return rgba;
    }

    /// <summary>Writes a PNG by hand, so that bit depth, colour type and palette are exactly as given.</summary>
    /// <param name="colorType">PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA.</param>
    /// <param name="rows">Raw scanlines without filter bytes, already in the PNG sample layout (16-bit big-endian).</param>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[][] rows, byte[]? palette = null)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = bitDepth;
        header[9] = colorType;
        WriteChunk(file, "IHDR", header);
        if (palette is not null)
        {
            WriteChunk(file, "PLTE", palette);
        }

        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            foreach (byte[] row in rows)
            {
                zlib.WriteByte(0);
                zlib.Write(row);
            }
        }

        WriteChunk(file, "IDAT", raw.ToArray());
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>A PNG whose header declares <paramref name="width"/> x <paramref name="height"/> but contains almost no pixel data.</summary>
    public static byte[] PngHeaderOnly(int width, int height) =>
        Png(width, height, 8, 2, [new byte[3]]);

    /// <summary>Inserts an EXIF APP1 segment with the given orientation tag (1..8) right after the JPEG SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        // "Exif\0\0", then a little-endian TIFF header, one IFD with one SHORT entry (tag 0x0112), no next IFD.
        byte[] tiff =
        [
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0,
            1, 0,
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0,
            0, 0, 0, 0,
        ];
        byte[] exif = [.. "Exif\0\0"u8, .. tiff];
        int length = exif.Length + 2;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. exif];
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>Decodes with default options and fails the test with the reason when decoding fails.</summary>
    public static DecodedImage DecodeOrFail(byte[] encoded, string name)
    {
        bool ok = ImageDecoder.TryDecode(encoded, name, null, out DecodedImage? image, out ImageFailure? failure);
        Assert.True(ok, failure?.Reason);
        return image!;
    }

    private static void WriteChunk(Stream file, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        file.Write(number);
        byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        file.Write(typeBytes);
        file.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32([.. typeBytes, .. data]));
        file.Write(number);
    }

    // The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320, reflected), bit by bit.
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

    private static string FindTestData(string folder)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "MLNetRetrieval.Tests", "TestData", folder);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No tests/MLNetRetrieval.Tests/TestData/{folder} above {AppContext.BaseDirectory}.");
    }

    internal sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlnr-images-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Write(string name, byte[] bytes)
        {
            string path = System.IO.Path.Combine(Path, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp folder does not affect other tests.
            }
        }
    }
}
