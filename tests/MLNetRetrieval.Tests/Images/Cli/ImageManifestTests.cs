using Microsoft.ML;
using MLNetRetrieval.Cli.Images;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.IO;
using MLNetRetrieval.Tests.Cli;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Images.Cli;

/// <summary>The manifest CSV (path,id,label) as a file and as an entry inside a model zip.</summary>
public sealed class ImageManifestTests
{
    private static readonly ImageManifestEntry[] Entries =
    [
        new("/data/plain.png", 0, "cats"),
        new("/data/with, comma.png", 3, "dogs"),
        new("/data/with \"quotes\".png", 4, "a \"b\""),
        new("/data/line\nbreak.png", 7, null),
        new(" /data/edge space.png ", 9, " x "),
    ];

    [Fact]
    public void ManifestRoundTripsAwkwardPaths()
    {
        string path = Path.Combine(CliHarness.TempDirectory(), "manifest.csv");

        ImageManifest.Write(path, Entries);
        IReadOnlyList<ImageManifestEntry> read = ImageManifest.Read(path);

        Assert.Equal(Entries, read);
    }

    [Fact]
    public void ManifestStartsWithHeader()
    {
        var writer = new StringWriter();

        ImageManifest.Write(writer, Entries[..1]);

        Assert.Equal("path,id,label\n/data/plain.png,0,cats\n", writer.ToString());
    }

    [Fact]
    public void ManifestFromFolderListing()
    {
        string root = ImageFolderTests.CreateTree("cats/a.png", "dogs/b.jpg");
        IReadOnlyList<ImageFile> files = ImageFolder.List(root, new ImageFolderOptions { LabelsFromFolders = true });
        var writer = new StringWriter();

        ImageManifest.Write(writer, files.Select(file => new ImageManifestEntry(file.Path, file.Id, file.Label)));

        string[] lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["path,id,label", $"{root}/cats/a.png,0,cats", $"{root}/dogs/b.jpg,1,dogs"], lines);
    }

    [Theory]
    [InlineData("file,id,label\na.png,0,x\n", "line 1")]
    [InlineData("path,id,label\na.png,0\n", "line 2")]
    [InlineData("path,id,label\na.png,-1,x\n", "line 2")]
    [InlineData("path,id,label\na.png,0,x\nb.png,0,y\n", "line 3")]
    [InlineData("path,id,label\n\"a.png,0,x\n", "line 2")]
    public void InvalidManifestNamesLine(string text, string line)
    {
        var error = Assert.Throws<InvalidDataException>(() => ImageManifest.Read(new StringReader(text), "m.csv"));

        Assert.Contains("m.csv, " + line, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZipWithManifestStillLoads()
    {
        string zip = WriteVectorModel(out VectorSet vectors);

        ImageRetrieval.AddManifest(zip, Entries);
        var ml = new MLContext(seed: 1);
        ITransformer model = ml.Model.Load(zip, out _);
        NeighborSearcher searcher = Assert.Single(ml.Retrieval().GetSearchers(model));

        Assert.Equal(vectors.Count, searcher.Count);
        Assert.Equal(Entries, ImageRetrieval.ReadManifest(zip));
    }

    [Fact]
    public void ZipWithoutManifestIsNotImageModel()
    {
        string zip = WriteVectorModel(out _);

        var error = Assert.Throws<InvalidDataException>(() => ImageRetrieval.ReadManifest(zip));

        Assert.Contains("index --images", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Builds a small exact index with the CLI and returns the zip path.</summary>
    internal static string WriteVectorModel(out VectorSet vectors)
    {
        string folder = CliHarness.TempDirectory();
        vectors = CliHarness.GaussianVectors(20, 4, seed: 3);
        string fvecs = Path.Combine(folder, "base.fvecs");
        VectorFile.WriteFvecs(fvecs, vectors.Values, vectors.Dimension);
        string zip = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", fvecs, "--output", zip, "--k", "3"));
        return zip;
    }
}
