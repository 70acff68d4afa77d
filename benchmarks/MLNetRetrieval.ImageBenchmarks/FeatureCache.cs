using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>
/// Stores feature matrices under a folder as NumPy .npy files (float32, shape (n, d), NaN rows for failed
/// images) with a JSON file beside each one for the timing. The file name contains a hash of the
/// featurizer's cache key and of every input path and file content, so any change computes the features again.
/// </summary>
internal sealed class FeatureCache
{
    // The .npy magic string: the byte 0x93 followed by "NUMPY".
    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private readonly string _folder;

    /// <summary>Creates a cache in a folder, creating the folder when needed.</summary>
    /// <param name="folder">The folder.</param>
    public FeatureCache(string folder)
    {
        _folder = folder;
        Directory.CreateDirectory(folder);
    }

    /// <summary>Loads the features from the cache, or computes and stores them.</summary>
    /// <param name="featurizer">The featurizer.</param>
    /// <param name="paths">The image files.</param>
    /// <param name="setName">Name of the image set, used in the file name and in the log.</param>
    /// <returns>The features and whether they came from the cache.</returns>
    public (FeatureMatrix Features, bool FromCache) GetOrCompute(IImageFeaturizer featurizer, IReadOnlyList<string> paths, string setName)
    {
        string key = HashInputs(featurizer.CacheKey, paths);
        string stem = Path.Combine(_folder, $"{setName}-{featurizer.Name}-{key}");
        string arrayPath = stem + ".npy";
        string infoPath = stem + ".json";
        if (File.Exists(arrayPath) && File.Exists(infoPath))
        {
            FeatureMatrix cached = Read(arrayPath, infoPath, paths.Count);
            Console.Error.WriteLine($"{setName}/{featurizer.Name}: {paths.Count} images from cache {arrayPath}");
            return (cached, true);
        }

        Console.Error.WriteLine($"{setName}/{featurizer.Name}: computing {paths.Count} images");
        FeatureMatrix features = featurizer.Compute(paths);
        Write(features, arrayPath, infoPath);
        Console.Error.WriteLine(
            $"{setName}/{featurizer.Name}: {features.Seconds:F1} s, {features.ImagesPerSecond:F1} images/s, " +
            $"{features.Failed.Count(f => f)} failed, load {features.LoadAverage}");
        return (features, false);
    }

    private static string HashInputs(string featurizerKey, IReadOnlyList<string> paths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(featurizerKey + "\n"));
        foreach (string path in paths)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(path + "\n"));
            if (File.Exists(path))
            {
                hash.AppendData(SHA256.HashData(File.ReadAllBytes(path)));
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
    }

    private sealed record Info(int Count, int Dimension, int[] FailedRows, double Seconds, DateTime ComputedAtUtc, string LoadAverage);

    private static void Write(FeatureMatrix features, string arrayPath, string infoPath)
    {
        string header = string.Create(
            CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({features.Count}, {features.Dimension}), }}");

        // Format 1.0: magic, version, little-endian u16 header length, then the header padded with spaces
        // and ended by a newline so that the data starts at a multiple of 64 bytes.
        int prefix = 10;
        int padded = ((prefix + header.Length + 1 + 63) / 64 * 64) - prefix;
        header = header.PadRight(padded - 1) + "\n";
        string temporary = arrayPath + ".tmp";
        using (var stream = File.Create(temporary))
        {
            stream.Write(NpyMagic);
            stream.WriteByte(1);
            stream.WriteByte(0);
            Span<byte> length = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
            stream.Write(length);
            stream.Write(Encoding.ASCII.GetBytes(header));
            var bytes = new byte[checked(features.Vectors.Length * sizeof(float))];
            for (int i = 0; i < features.Vectors.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), features.Vectors[i]);
            }

            stream.Write(bytes);
        }

        int[] failedRows = Enumerable.Range(0, features.Count).Where(i => features.Failed[i]).ToArray();
        var info = new Info(features.Count, features.Dimension, failedRows, features.Seconds, features.ComputedAtUtc, features.LoadAverage);
        File.WriteAllText(infoPath, JsonSerializer.Serialize(info));
        File.Move(temporary, arrayPath, overwrite: true);
    }

    private static FeatureMatrix Read(string arrayPath, string infoPath, int expectedCount)
    {
        Info info = JsonSerializer.Deserialize<Info>(File.ReadAllText(infoPath))
            ?? throw new InvalidDataException($"The cache file '{infoPath}' contains null. Delete it to compute the features again.");
        if (info.Count != expectedCount)
        {
            throw new InvalidDataException(
                $"The cache file '{infoPath}' has {info.Count} rows but {expectedCount} images were requested. Delete it to compute the features again.");
        }

        byte[] bytes = File.ReadAllBytes(arrayPath);
        if (bytes.Length < 10 || !bytes.AsSpan(0, NpyMagic.Length).SequenceEqual(NpyMagic) || bytes[6] != 1)
        {
            throw new InvalidDataException($"The cache file '{arrayPath}' is not a version 1 .npy file. Delete it to compute the features again.");
        }

        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
        int dataStart = 10 + headerLength;
        long expectedBytes = (long)info.Count * info.Dimension * sizeof(float);
        if (bytes.Length - dataStart != expectedBytes)
        {
            throw new InvalidDataException(
                $"The cache file '{arrayPath}' has {bytes.Length - dataStart} data bytes after its header at offset {dataStart}, " +
                $"expected {expectedBytes} for ({info.Count}, {info.Dimension}) float32. Delete it to compute the features again.");
        }

        var vectors = new float[info.Count * info.Dimension];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (i * sizeof(float))));
        }

        var failed = new bool[info.Count];
        foreach (int row in info.FailedRows)
        {
            failed[row] = true;
        }

        return new FeatureMatrix(info.Dimension, vectors, failed, info.Seconds, info.ComputedAtUtc, info.LoadAverage);
    }
}
