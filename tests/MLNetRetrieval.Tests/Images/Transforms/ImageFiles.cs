using MLNetRetrieval.IO;
using SkiaSharp;

namespace MLNetRetrieval.Tests.Images.Transforms;

/// <summary>Real image files for the transform tests: Fashion-MNIST pictures written as PNG and JPEG, plus broken files.</summary>
internal static class ImageFiles
{
    private const string FashionMnistImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    private const int Side = 28;

    private static readonly Lazy<float[]> Pixels = new(() => VectorFile.Read(FashionMnistImages).Values);

    /// <summary>
    /// Writes the Fashion-MNIST test images <paramref name="first"/>.. as files in <paramref name="folder"/>:
    /// even indices as grayscale PNG, odd ones as colour JPEG (quality 90) tinted per image.
    /// </summary>
    public static string[] WriteFashion(string folder, int first, int count)
    {
        float[] pixels = Pixels.Value;
        var paths = new string[count];
        for (int i = 0; i < count; i++)
        {
            int image = first + i;
            ReadOnlySpan<float> source = pixels.AsSpan(image * Side * Side, Side * Side);
            bool png = image % 2 == 0;
            paths[i] = Path.Combine(folder, $"fashion-{image:D5}.{(png ? "png" : "jpg")}");
            using var bitmap = new SKBitmap(new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Opaque));
            for (int y = 0; y < Side; y++)
            {
                for (int x = 0; x < Side; x++)
                {
                    byte value = (byte)source[(y * Side) + x];
                    bitmap.SetPixel(x, y, png ? new SKColor(value, value, value) : new SKColor(value, (byte)(value * (image % 7) / 7), (byte)(255 - value)));
                }
            }

            using SKData data = bitmap.Encode(png ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(paths[i], data.ToArray());
        }

        return paths;
    }

    /// <summary>Writes a file that starts like a PNG but whose header and data are garbage.</summary>
    public static string WriteCorrupt(string folder)
    {
        string path = Path.Combine(folder, "corrupt.png");
        var bytes = new byte[600];
        new Random(5).NextBytes(bytes);
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnr-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
