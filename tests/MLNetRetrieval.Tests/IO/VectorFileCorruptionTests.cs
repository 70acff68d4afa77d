using System.Buffers.Binary;
using MLNetRetrieval.IO;
using Xunit;

namespace MLNetRetrieval.Tests.IO;

/// <summary>
/// Damaged files: every reader must either succeed or throw <see cref="InvalidDataException"/>, and must not
/// allocate what a corrupt header claims.
/// </summary>
public sealed class VectorFileCorruptionTests : IDisposable
{
    private const int FlipsPerFile = 300;
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    public static TheoryData<string> SmallFileNames => new() { "v.fvecs", "v.ivecs", "v.bvecs", "v.npy", "v-idx3-ubyte", "v-idx3-ubyte.gz", "v.csv" };

    [Theory]
    [MemberData(nameof(SmallFileNames))]
    public void TruncationAtEveryByteThrows(string name)
    {
        byte[] bytes = SmallFile(name);
        string path = _files.PathOf(name);
        var options = OptionsFor(name, _files.Write(name, bytes));

        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(path, bytes[..length]);
            var error = Record.Exception(() => VectorFile.Read(path, options));

            if (IsValidPrefix(name, bytes, length))
            {
                Assert.True(error is null, $"length {length}: {error?.Message}");
            }
            else if (name.EndsWith(".csv", StringComparison.Ordinal))
            {
                // A CSV cut inside the last number ("0.25" to "0.2") is still valid, so text may read or throw.
                Assert.True(error is null or InvalidDataException, $"length {length}: {error?.GetType().Name}: {error?.Message}");
            }
            else
            {
                Assert.True(error is InvalidDataException, $"length {length}: {error?.GetType().Name ?? "no exception"}: {error?.Message}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SmallFileNames))]
    public void RandomByteFlipsReadOrThrow(string name)
    {
        byte[] original = SmallFile(name);
        string path = _files.PathOf(name);
        var options = OptionsFor(name, _files.Write(name, original));
        var random = new Random(20240601);

        for (int trial = 0; trial < FlipsPerFile; trial++)
        {
            byte[] bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            }

            File.WriteAllBytes(path, bytes);
            var error = Record.Exception(() => VectorFile.Read(path, options));

            Assert.True(error is null or InvalidDataException, $"trial {trial}: {error?.GetType().Name}: {error?.Message}");
        }
    }

    [Fact]
    public void FvecsDimensionMismatchNamesRecord()
    {
        var bytes = new List<byte>();
        foreach (int dimension in new[] { 2, 2, 3 })
        {
            bytes.AddRange(BitConverter.GetBytes(dimension));
            bytes.AddRange(new byte[4 * dimension]);
        }

        string path = _files.Write("mixed.fvecs", [.. bytes]);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Equal($"{path}: record 2 at byte offset 24 declares dimension 3, but record 0 declares 2. All .fvecs records must have the same dimension.", error.Message);
    }

    [Fact]
    public void FvecsPartialRecordNamesOffset()
    {
        string path = _files.PathOf("cut.fvecs");
        VectorFile.WriteFvecs(path, new float[6], 2);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..30]);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("record 2 at byte offset 24 is truncated", error.Message);
    }

    [Fact]
    public void FvecsNaNNamesRecord()
    {
        string path = _files.PathOf("nan.fvecs");
        VectorFile.WriteFvecs(path, [1, 2, 3, float.NaN], 2);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Equal($"{path}: record 1 component 1 is NaN. Remove or repair that vector, or set VectorReadOptions.RejectNonFinite = false to accept it.", error.Message);
    }

    [Fact]
    public void NonFiniteAcceptedWhenAllowed()
    {
        string path = _files.PathOf("inf.npy");
        VectorFile.WriteNpy(path, [1, float.PositiveInfinity], 1, 2);

        var read = VectorFile.Read(path, new VectorReadOptions { RejectNonFinite = false });

        Assert.Equal(float.PositiveInfinity, read.Values[1]);
    }

    [Theory]
    [InlineData("e.fvecs")]
    [InlineData("e.npy")]
    [InlineData("e.csv")]
    [InlineData("e-idx3-ubyte")]
    public void EmptyFileThrows(string name)
    {
        string path = _files.Write(name, []);
        var options = new VectorReadOptions { Format = name.EndsWith("ubyte", StringComparison.Ordinal) ? VectorFileFormat.Idx : null };

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, options));

        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void IdxHugeHeaderRejectedBeforeAllocation()
    {
        string path = _files.Write("huge-idx3-ubyte", TestFiles.Idx(0x08, [int.MaxValue, int.MaxValue, 1], new byte[64]));
        long before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000, "allocated more than 10 MB");
        Assert.Contains("more than one array can hold", error.Message);
    }

    [Fact]
    public void IdxHugeCountRejectedByLength()
    {
        string path = _files.Write("long-idx3-ubyte", TestFiles.Idx(0x08, [1_000_000, 28, 28], new byte[784]));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("needs 784000000 data bytes after byte offset 16, but the file has only 784", error.Message);
    }

    [Fact]
    public void GzipIdxHugeCountRejectedByRatio()
    {
        string path = _files.Write("long-idx3-ubyte.gz", TestFiles.Gzip(TestFiles.Idx(0x08, [2_000_000, 28, 28], new byte[784])));
        long before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000, "allocated more than 10 MB");
        Assert.Contains("more than a gzip file of", error.Message);
    }

    [Fact]
    public void GzipIdxShortDataThrows()
    {
        string path = _files.Write("short-idx3-ubyte.gz", TestFiles.Gzip(TestFiles.Idx(0x08, [20, 28, 28], new byte[784])));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("file ends at byte offset 800", error.Message);
    }

    [Fact]
    public void NpyHugeShapeRejectedBeforeAllocation()
    {
        string path = _files.Write("huge.npy", TestFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }", new byte[64]));
        long before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000, "allocated more than 10 MB");
        Assert.Contains("more than one array can hold", error.Message);
    }

    [Fact]
    public void FvecsHugeDimensionRejected()
    {
        byte[] bytes = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, int.MaxValue);
        string path = _files.Write("huge.fvecs", bytes);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Equal(
            $"{path}: record 0 declares dimension 2147483647, but it must be between 1 and 15 for a file of 64 bytes. The file is not a .fvecs file or is corrupt.",
            error.Message);
    }

    [Fact]
    public void NpyShortDataNamesSizes()
    {
        string path = _files.Write("short.npy", TestFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 8), }", new byte[64]));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Equal(
            $"{path}: shape (1000, 8) of float32, little-endian needs 32000 data bytes after byte offset 128, but the file has only 64. The file is truncated or its header is corrupt.",
            error.Message);
    }

    [Fact]
    public void NpyBadMagicThrows()
    {
        byte[] bytes = TestFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", new byte[4]);
        bytes[1] = (byte)'X';
        string path = _files.Write("bad.npy", bytes);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { Format = VectorFileFormat.Npy }));

        Assert.Contains("not the .npy magic", error.Message);
    }

    [Fact]
    public void NpyOneDimensionalVectorsRejected()
    {
        string path = _files.Write("flat.npy", TestFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new byte[16]));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("reshape(-1, 1)", error.Message);
    }

    [Fact]
    public void IdxBadTypeCodeThrows()
    {
        string path = _files.Write("bad-idx1-ubyte", TestFiles.Idx(0x07, [2, 1], new byte[2]));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path, new VectorReadOptions { Format = VectorFileFormat.Idx }));

        Assert.Contains("type code 0x07", error.Message);
    }

    [Fact]
    public void LabelsCountMismatchThrows()
    {
        string vectors = _files.PathOf("v.fvecs");
        VectorFile.WriteFvecs(vectors, new float[6], 2);
        string labels = _files.Write("l-idx1-ubyte", TestFiles.Idx(0x08, [2], [1, 2]));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(vectors, new VectorReadOptions { LabelsPath = labels }));

        Assert.Equal($"{labels}: file has 2 labels, but {vectors} has 3 vectors. Use the labels file that belongs to the vector file.", error.Message);
    }

    [Fact]
    public void DuplicateIdsInSideFileThrow()
    {
        string vectors = _files.PathOf("v.fvecs");
        VectorFile.WriteFvecs(vectors, new float[6], 2);
        string ids = _files.PathOf("ids.npy");
        VectorFile.WriteNpy(ids, [4L, 8L, 4L]);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(vectors, new VectorReadOptions { IdsPath = ids }));

        Assert.Equal($"{ids}: element 2: id 4 already appears at element 0. Ids must be unique.", error.Message);
    }

    [Fact]
    public void NegativeIdsInTextFileThrow()
    {
        string ids = _files.WriteText("ids.txt", "1\n-2\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.ReadIds(ids));

        Assert.Equal($"{ids}: line 2: id -2 is negative. Ids must be non-negative 64-bit integers.", error.Message);
    }

    [Fact]
    public void MissingFileThrowsNotFound()
    {
        string path = _files.PathOf("absent.fvecs");

        var error = Assert.Throws<FileNotFoundException>(() => VectorFile.Read(path));

        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void UnknownExtensionThrows()
    {
        string path = _files.WriteText("v.dat", "1,2\n");

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("set VectorReadOptions.Format", error.Message);
    }

    /// <summary>
    /// Returns whether the first <paramref name="length"/> bytes form a valid shorter file: a CSV cut after a line
    /// break, or a headerless TEXMEX file cut at a record boundary.
    /// </summary>
    private static bool IsValidPrefix(string name, byte[] bytes, int length)
    {
        if (length == 0)
        {
            return false;
        }

        if (name.EndsWith(".csv", StringComparison.Ordinal))
        {
            // The header alone (first line) has no data rows and must be rejected.
            int headerEnd = Array.IndexOf(bytes, (byte)'\n') + 1;
            return bytes[length - 1] == (byte)'\n' && length > headerEnd;
        }

        int recordSize = name switch
        {
            "v.fvecs" or "v.ivecs" => 4 + (3 * 4),
            "v.bvecs" => 4 + 3,
            _ => 0,
        };
        return recordSize > 0 && length % recordSize == 0;
    }

    private static VectorReadOptions OptionsFor(string name, string intactPath)
    {
        var options = new VectorReadOptions { Format = VectorFile.DetectFormat(intactPath) };
        if (name.EndsWith(".csv", StringComparison.Ordinal))
        {
            options.IdColumn = "id";
            options.LabelColumn = "label";
        }

        return options;
    }

    private static byte[] SmallFile(string name)
    {
        using var files = new TestFiles();
        float[] values = [1.5f, -2, 0.25f, 4, 5, 6, 7.125f, 8, 9];
        string path = files.PathOf(name);
        switch (name)
        {
            case "v.fvecs":
                VectorFile.WriteFvecs(path, values, 3);
                break;
            case "v.ivecs":
                VectorFile.WriteIvecs(path, [1, -2, 3, 4, 5, 6, 7, 8, 9], 3);
                break;
            case "v.npy":
                VectorFile.WriteNpy(path, values, 3, 3);
                break;
            case "v.csv":
                VectorFile.WriteCsv(path, new VectorSet(values, 3, 3, [1, 2, 3], ["a", "b,c", "d"]));
                return File.ReadAllBytes(path);
            case "v.bvecs":
                var bvecs = new List<byte>();
                for (int row = 0; row < 3; row++)
                {
                    bvecs.AddRange(BitConverter.GetBytes(3));
                    bvecs.AddRange([1, 2, (byte)row]);
                }

                return [.. bvecs];
            default:
                byte[] idx = TestFiles.Idx(0x08, [3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
                return name.EndsWith(".gz", StringComparison.Ordinal) ? TestFiles.Gzip(idx) : idx;
        }

        return File.ReadAllBytes(path);
    }
}
