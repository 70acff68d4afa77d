using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MLNetRetrieval.Tests.IO;

/// <summary>
/// A temporary folder deleted on dispose, plus builders for test files written byte by byte.
/// </summary>
internal sealed class TestFiles : IDisposable
{
    public TestFiles()
    {
        Folder = Path.Combine(Path.GetTempPath(), "mlnet-retrieval-io-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    public string Write(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string WriteText(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    /// <summary>Builds an IDX file: two zero bytes, the type code, the rank, big-endian uint32 sizes, then the data.</summary>
    public static byte[] Idx(byte typeCode, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + (4 * dims.Length) + data.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dims[i]);
        }

        data.CopyTo(bytes, 4 + (4 * dims.Length));
        return bytes;
    }

    /// <summary>Builds an .npy file of the given version with a hand-written header dict.</summary>
    public static byte[] Npy(string dict, byte[] data, int major = 1)
    {
        int prefix = major == 1 ? 10 : 12;
        int padding = (64 - ((prefix + dict.Length + 1) % 64)) % 64;
        byte[] header = Encoding.ASCII.GetBytes(dict + new string(' ', padding) + "\n");
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        if (major == 1)
        {
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
        }
        else
        {
            stream.Write(BitConverter.GetBytes((uint)header.Length));
        }

        stream.Write(header);
        stream.Write(data);
        return stream.ToArray();
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    public static float[] RandomFloats(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 200) - 100);
        }

        return values;
    }
}
