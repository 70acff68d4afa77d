using System.IO.Compression;
using System.Security.Cryptography;
using MLNetRetrieval.IO;
using Xunit;

namespace MLNetRetrieval.Tests.IO;

/// <summary>
/// Reads the real Fashion-MNIST test split from the Debian package and from the copy embedded in the repository.
/// </summary>
public sealed class FashionMnistTests
{
    private const string DebianFolder = "/usr/share/datasets/fashion-mnist";
    private const int ImageHeaderLength = 16;
    private const int LabelHeaderLength = 8;
    private const int Pixels = 28 * 28;

    private static readonly string DebianImages = Path.Combine(DebianFolder, "t10k-images-idx3-ubyte.gz");
    private static readonly string DebianLabels = Path.Combine(DebianFolder, "t10k-labels-idx1-ubyte.gz");

    [Fact]
    public void DebianSplitShapeAndLabels()
    {
        var set = VectorFile.Read(DebianImages, new VectorReadOptions { LabelsPath = DebianLabels });

        Assert.Equal(10000, set.Count);
        Assert.Equal(Pixels, set.Dimension);
        Assert.Equal("9", set.Labels![0]);
        Assert.Equal("Ankle boot", EmbeddedData.FashionMnistClassNames[int.Parse(set.Labels[0])]);
    }

    [Fact]
    public void DebianSplitMatchesManualDecode()
    {
        byte[] images = Decompress(DebianImages);
        byte[] labels = Decompress(DebianLabels);

        var set = VectorFile.Read(DebianImages, new VectorReadOptions { LabelsPath = DebianLabels });

        foreach (var (row, pixel) in new[] { (0, 0), (0, 400), (1, 300), (4321, 511), (9999, 783) })
        {
            float expected = images[ImageHeaderLength + (row * Pixels) + pixel];
            Assert.True(expected == set.Values[(row * Pixels) + pixel], $"row {row} pixel {pixel}: expected {expected}, read {set.Values[(row * Pixels) + pixel]}");
        }

        for (int row = 0; row < set.Count; row += 997)
        {
            Assert.Equal(labels[LabelHeaderLength + row].ToString(), set.Labels![row]);
        }

        double manualSum = images.AsSpan(ImageHeaderLength).ToArray().Sum(b => (double)b);
        Assert.Equal(manualSum, set.Values.Sum(v => (double)v));
    }

    [Fact]
    public void EmbeddedCopyIsByteIdentical()
    {
        string examples = FindExamplesFolder();
        string folder = Path.Combine(examples, EmbeddedData.FashionMnistFolder);

        foreach (string name in new[] { EmbeddedData.FashionMnistImagesFileName, EmbeddedData.FashionMnistLabelsFileName })
        {
            byte[] embedded = SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, name)));
            byte[] debian = SHA256.HashData(File.ReadAllBytes(Path.Combine(DebianFolder, name)));
            Assert.Equal(Convert.ToHexString(debian), Convert.ToHexString(embedded));
        }
    }

    [Fact]
    public void EmbeddedDataReads()
    {
        var set = EmbeddedData.ReadFashionMnist(FindExamplesFolder());

        Assert.Equal(EmbeddedData.FashionMnistCount, set.Count);
        Assert.Equal(EmbeddedData.FashionMnistImageSide * EmbeddedData.FashionMnistImageSide, set.Dimension);
        Assert.Equal(10, set.Labels!.Distinct().Count());
    }

    [Fact]
    public void EmbeddedDataMissingThrows()
    {
        string empty = Path.Combine(Path.GetTempPath(), "mlnet-retrieval-no-data-" + Guid.NewGuid().ToString("N"));

        Assert.Equal((null, null), EmbeddedData.LocateFashionMnist(empty));
        Assert.Throws<FileNotFoundException>(() => EmbeddedData.ReadFashionMnist(empty));
    }

    private static byte[] Decompress(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Walks up from the test binaries to the repository's examples folder.</summary>
    private static string FindExamplesFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "examples");
            if (Directory.Exists(Path.Combine(candidate, EmbeddedData.FashionMnistFolder)))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No examples/{EmbeddedData.FashionMnistFolder} above {AppContext.BaseDirectory}.");
    }
}
