using Xunit;
using System.Buffers.Binary;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.IO;

public sealed class VectorFileRoundTripTests : IDisposable
{
    private const int Count = 37;
    private const int Dimension = 13;
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void FvecsRoundTrip()
    {
        float[] values = TestFiles.RandomFloats(Count * Dimension, seed: 1);
        string path = _files.PathOf("a.fvecs");
        VectorFile.WriteFvecs(path, values, Dimension);

        var read = VectorFile.Read(path);

        Assert.Equal(VectorFileFormat.Fvecs, VectorFile.DetectFormat(path));
        Assert.Equal(Count, read.Count);
        Assert.Equal(Dimension, read.Dimension);
        Assert.Equal(values, read.Values);
        Assert.Equal(path, read.Source);
    }

    [Fact]
    public void IvecsRoundTrip()
    {
        var random = new Random(2);
        int[] values = new int[Count * Dimension];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(int.MinValue, int.MaxValue);
        }

        string path = _files.PathOf("truth.ivecs");
        VectorFile.WriteIvecs(path, values, Dimension);

        var read = VectorFile.ReadIvecs(path);

        Assert.Equal(Count, read.Count);
        Assert.Equal(Dimension, read.Dimension);
        Assert.Equal(values, read.Values);
    }

    [Fact]
    public void IvecsReadAsFloats()
    {
        int[] values = [0, 1, -5, 1 << 24, 7, 9];
        string path = _files.PathOf("small.ivecs");
        VectorFile.WriteIvecs(path, values, 3);

        var read = VectorFile.Read(path);

        Assert.Equal(new float[] { 0, 1, -5, 1 << 24, 7, 9 }, read.Values);
    }

    [Fact]
    public void IvecsRejectsInexactFloat()
    {
        string path = _files.PathOf("big.ivecs");
        VectorFile.WriteIvecs(path, [1, (1 << 24) + 1], 2);

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("component 1 is 16777217", error.Message);
    }

    [Fact]
    public void BvecsReadsBytes()
    {
        var bytes = new List<byte>();
        for (int row = 0; row < 3; row++)
        {
            bytes.AddRange(BitConverter.GetBytes(4));
            bytes.AddRange([(byte)row, 255, 0, 128]);
        }

        string path = _files.Write("a.bvecs", [.. bytes]);

        var read = VectorFile.Read(path);

        Assert.Equal(3, read.Count);
        Assert.Equal(new float[] { 2, 255, 0, 128 }, read.GetVector(2).ToArray());
    }

    [Fact]
    public void NpyRoundTrip()
    {
        float[] values = TestFiles.RandomFloats(Count * Dimension, seed: 3);
        string path = _files.PathOf("a.npy");
        VectorFile.WriteNpy(path, values, Count, Dimension);

        var read = VectorFile.Read(path);

        Assert.Equal(VectorFileFormat.Npy, VectorFile.DetectFormat(path));
        Assert.Equal(Count, read.Count);
        Assert.Equal(Dimension, read.Dimension);
        Assert.Equal(values, read.Values);
        Assert.Equal(0, (new FileInfo(path).Length - (values.Length * sizeof(float))) % 64);
    }

    [Fact]
    public void NpyIdsRoundTrip()
    {
        long[] ids = [5, 0, long.MaxValue, 17];
        string idsPath = _files.PathOf("ids.npy");
        VectorFile.WriteNpy(idsPath, ids);
        string vectorsPath = _files.PathOf("v.npy");
        VectorFile.WriteNpy(vectorsPath, new float[8], 4, 2);

        var read = VectorFile.Read(vectorsPath, new VectorReadOptions { IdsPath = idsPath });

        Assert.Equal(ids, read.Ids);
    }

    [Theory]
    [InlineData("<f8", 8, false)]
    [InlineData(">f4", 4, true)]
    [InlineData(">f8", 8, true)]
    [InlineData("|u1", 1, false)]
    [InlineData("<i4", 4, false)]
    [InlineData("<i8", 8, false)]
    [InlineData(">i2", 2, true)]
    public void NpyConvertsElementTypes(string descr, int size, bool bigEndian)
    {
        float[] expected = [0, 1, 2, 100, 7, 42];
        var data = new byte[expected.Length * size];
        for (int i = 0; i < expected.Length; i++)
        {
            Span<byte> slot = data.AsSpan(i * size, size);
            switch (descr[1], size)
            {
                case ('f', 8) when bigEndian:
                    BinaryPrimitives.WriteDoubleBigEndian(slot, expected[i]);
                    break;
                case ('f', 8):
                    BinaryPrimitives.WriteDoubleLittleEndian(slot, expected[i]);
                    break;
                case ('f', 4):
                    BinaryPrimitives.WriteSingleBigEndian(slot, expected[i]);
                    break;
                case ('u', 1):
                    slot[0] = (byte)expected[i];
                    break;
                case ('i', 4):
                    BinaryPrimitives.WriteInt32LittleEndian(slot, (int)expected[i]);
                    break;
                case ('i', 8):
                    BinaryPrimitives.WriteInt64LittleEndian(slot, (long)expected[i]);
                    break;
                default:
                    BinaryPrimitives.WriteInt16BigEndian(slot, (short)expected[i]);
                    break;
            }
        }

        string path = _files.Write("t.npy", TestFiles.Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (3, 2), }}", data));

        var read = VectorFile.Read(path);

        Assert.Equal(expected, read.Values);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void NpyReadsVersionTwoAndThree(int major)
    {
        byte[] data = new byte[16];
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(12), 1.5f);
        string path = _files.Write("v.npy", TestFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}", data, major));

        var read = VectorFile.Read(path);

        Assert.Equal(1.5f, read.Values[3]);
    }

    [Fact]
    public void NpyFlattensImageShape()
    {
        string path = _files.Write("images.npy", TestFiles.Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 4), }", Enumerable.Range(0, 24).Select(i => (byte)i).ToArray()));

        var read = VectorFile.Read(path);

        Assert.Equal(2, read.Count);
        Assert.Equal(12, read.Dimension);
        Assert.Equal(23f, read.Values[23]);
    }

    [Fact]
    public void NpyRejectsFortranOrder()
    {
        string path = _files.Write("f.npy", TestFiles.Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]));

        var error = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));

        Assert.Contains("ascontiguousarray", error.Message);
    }

    [Fact]
    public void IdxRoundTripPlainAndGzip()
    {
        byte[] pixels = new byte[3 * 2 * 5];
        new Random(4).NextBytes(pixels);
        byte[] idx = TestFiles.Idx(0x08, [3, 2, 5], pixels);
        string plain = _files.Write("images-idx3-ubyte", idx);
        string gzip = _files.Write("images-idx3-ubyte.gz", TestFiles.Gzip(idx));

        foreach (string path in new[] { plain, gzip })
        {
            var read = VectorFile.Read(path);

            Assert.Equal(VectorFileFormat.Idx, VectorFile.DetectFormat(path));
            Assert.Equal(3, read.Count);
            Assert.Equal(10, read.Dimension);
            Assert.Equal(pixels.Select(b => (float)b).ToArray(), read.Values);
        }
    }

    [Fact]
    public void IdxReadsFloat32BigEndian()
    {
        byte[] data = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(data, -2.5f);
        BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4), 3.25f);
        string path = _files.Write("f-idx2", TestFiles.Idx(0x0D, [1, 2], data));

        var read = VectorFile.Read(path, new VectorReadOptions { Format = VectorFileFormat.Idx });

        Assert.Equal(new float[] { -2.5f, 3.25f }, read.Values);
    }

    [Fact]
    public void IdxLabelsAttach()
    {
        string images = _files.Write("i-idx3-ubyte", TestFiles.Idx(0x08, [3, 1, 2], new byte[6]));
        string labels = _files.Write("l-idx1-ubyte.gz", TestFiles.Gzip(TestFiles.Idx(0x08, [3], [9, 0, 4])));

        var read = VectorFile.Read(images, new VectorReadOptions { LabelsPath = labels });

        Assert.Equal(new[] { "9", "0", "4" }, read.Labels);
    }

    [Fact]
    public void TextLabelsAttach()
    {
        string vectors = _files.PathOf("v.fvecs");
        VectorFile.WriteFvecs(vectors, new float[6], 2);
        string labels = _files.WriteText("labels.txt", "cat\r\ndog, brown\nbird\n\n");

        var read = VectorFile.Read(vectors, new VectorReadOptions { LabelsPath = labels });

        Assert.Equal(new[] { "cat", "dog, brown", "bird" }, read.Labels);
    }

    [Fact]
    public void TextIdsAttach()
    {
        string vectors = _files.PathOf("v.fvecs");
        VectorFile.WriteFvecs(vectors, new float[6], 2);
        string ids = _files.WriteText("ids.txt", "10\n3\n99\n");

        var read = VectorFile.Read(vectors, new VectorReadOptions { IdsPath = ids });

        Assert.Equal(new long[] { 10, 3, 99 }, read.Ids);
    }

    [Fact]
    public void CsvRoundTripWithIdsAndLabels()
    {
        float[] values = TestFiles.RandomFloats(Count * Dimension, seed: 5);
        long[] ids = Enumerable.Range(0, Count).Select(i => (long)(i * 7) + 3).ToArray();
        string[] labels = Enumerable.Range(0, Count).Select(LabelNeedingQuotes).ToArray();
        var vectors = new VectorSet(values, Count, Dimension, ids, labels, "memory");
        string path = _files.PathOf("v.csv");
        VectorFile.WriteCsv(path, vectors);

        var read = VectorFile.Read(path, new VectorReadOptions { IdColumn = "id", LabelColumn = "label" });

        Assert.Equal(values, read.Values);
        Assert.Equal(ids, read.Ids);
        Assert.Equal(labels, read.Labels);
    }

    [Fact]
    public void CsvRoundTripGzipTab()
    {
        float[] values = TestFiles.RandomFloats(4 * 3, seed: 6);
        string plain = _files.PathOf("plain.tsv");
        VectorFile.WriteCsv(plain, new VectorSet(values, 4, 3), '\t');
        string gzip = _files.Write("v.tsv.gz", TestFiles.Gzip(File.ReadAllBytes(plain)));

        var read = VectorFile.Read(gzip, new VectorReadOptions { Delimiter = '\t' });

        Assert.Equal(VectorFileFormat.Csv, VectorFile.DetectFormat(gzip));
        Assert.Equal(values, read.Values);
    }

    /// <summary>Returns labels that cycle through a quote plus delimiter, a line break, and plain text.</summary>
    private static string LabelNeedingQuotes(int i) => (i % 3) switch
    {
        0 => $"a \"quoted\", label {i}",
        1 => $"multi\nline {i}",
        _ => $"plain{i}",
    };
}
