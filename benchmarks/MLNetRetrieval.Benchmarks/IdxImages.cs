using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetRetrieval.Benchmarks;

/// <summary>Reader for gzip-compressed IDX image files (magic 0x00000803: count, rows, columns, then bytes).</summary>
internal static class IdxImages
{
    /// <summary>Reads the images as row-major floats with the raw pixel values 0–255.</summary>
    public static (float[] Pixels, int Count, int Dimension) Read(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        byte[] data = buffer.ToArray();
        if (data.Length < 16)
        {
            throw new InvalidDataException($"{path}: {data.Length} bytes is too short for an IDX header (16 bytes).");
        }

        uint magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (magic != 0x00000803)
        {
            throw new InvalidDataException($"{path}: expected IDX magic 0x00000803 at offset 0, got 0x{magic:X8}.");
        }

        int count = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4)));
        int rows = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8)));
        int columns = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(12)));
        int dimension = checked(rows * columns);
        long expected = 16L + ((long)count * dimension);
        if (data.Length != expected)
        {
            throw new InvalidDataException($"{path}: header declares {count} images of {rows}x{columns}, so {expected} bytes, but the file has {data.Length}.");
        }

        var pixels = new float[checked(count * dimension)];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = data[16 + i];
        }

        return (pixels, count, dimension);
    }
}
