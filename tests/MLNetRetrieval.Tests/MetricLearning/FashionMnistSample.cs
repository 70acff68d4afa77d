using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetRetrieval.Tests.MetricLearning;

/// <summary>The first rows of the Fashion-MNIST training set (Debian dataset-fashion-mnist), pixels scaled to [0, 1].</summary>
internal static class FashionMnistSample
{
    private const string Folder = "/usr/share/datasets/fashion-mnist";

    public const int Dimension = 28 * 28;

    public static (float[] Features, int[] Labels) Read(int rows)
    {
        byte[] images = Decompress(Path.Combine(Folder, "train-images-idx3-ubyte.gz"), 16 + (rows * Dimension));
        byte[] labels = Decompress(Path.Combine(Folder, "train-labels-idx1-ubyte.gz"), 8 + rows);
        if (BinaryPrimitives.ReadUInt32BigEndian(images) != 0x803 || BinaryPrimitives.ReadUInt32BigEndian(labels) != 0x801)
        {
            throw new InvalidDataException("Unexpected IDX magic numbers in the Fashion-MNIST files.");
        }

        var features = new float[rows * Dimension];
        for (int i = 0; i < features.Length; i++)
        {
            features[i] = images[16 + i] / 255f;
        }

        return (features, labels.AsSpan(8, rows).ToArray().Select(b => (int)b).ToArray());
    }

    private static byte[] Decompress(string path, int length)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var bytes = new byte[length];
        gzip.ReadExactly(bytes);
        return bytes;
    }
}
