using System.Globalization;
using System.Text.Json;
using MLNetRetrieval.Cli.Images;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.Tests.Cli;

namespace MLNetRetrieval.Tests.Images.Cli;

/// <summary>
/// index --images, search --images / --image and demo --images on real PNG files from the bundled
/// clip-art sample (copied beside the tests from examples/data/images), with the default ResNet18 model.
/// </summary>
public sealed class ImageCliFlowTests
{
    /// <summary>Squared L2 between two embeddings of the same file on unit vectors; both passes run the same model on the same pixels.</summary>
    private const float SameImageTolerance = 1e-4f;

    private static readonly string Sample = Path.Combine(AppContext.BaseDirectory, "data", "images");

    [Fact]
    public void CorruptFileGivesOneFailureRow()
    {
        string folder = CliHarness.TempDirectory();
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(Path.Combine(images, "birds"));
        string good = Path.Combine(images, "birds", "crow.png");
        string bad = Path.Combine(images, "birds", "damaged.png");
        File.Copy(Path.Combine(Sample, "birds", "crow_01.png"), good);
        File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5]);
        string zip = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");

        CliResult index = CliHarness.Run("index", "--images", images, "--labels-from-folders", "--output", zip);
        CliResult search = CliHarness.Run("search", "--model", zip, "--images", images, "--output", results);

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        Assert.Equal([bad], ReadFailurePaths(Path.Combine(folder, "model.failures.csv")));
        Assert.Equal([good], ImageManifest.Read(Path.Combine(folder, "model.manifest.csv")).Select(entry => entry.Path));
        Assert.Equal([bad], ReadFailurePaths(Path.Combine(folder, "results.failures.csv")));
        ResultRow row = Assert.Single(ReadResults(results));
        Assert.Equal(good, row.QueryPath);
        Assert.Equal(good, row.NeighborPath);
        Assert.Equal("birds", row.Label);
    }

    [Fact]
    public void AllImagesCorruptIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(images);
        string bad = Path.Combine(images, "empty.jpg");
        File.WriteAllBytes(bad, []);
        string zip = Path.Combine(folder, "model.zip");

        CliResult result = CliHarness.Run("index", "--images", images, "--output", zip);

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "model.failures.csv");
        Assert.False(File.Exists(zip));
        Assert.Equal([bad], ReadFailurePaths(Path.Combine(folder, "model.failures.csv")));
    }

    [Fact]
    public void SingleImageFindsItselfFirst()
    {
        string folder = CliHarness.TempDirectory();
        string images = CopySample(folder, perCategory: 3);
        string zip = Path.Combine(folder, "model.zip");
        string query = Path.Combine(images, "fish", ImageFolderTests.FirstFileName(Path.Combine(images, "fish")));
        string results = Path.Combine(folder, "results.csv");

        CliHarness.AssertSuccess(CliHarness.Run("index", "--images", images, "--labels-from-folders", "--normalize", "--k", "4", "--output", zip));
        CliResult search = CliHarness.Run("search", "--model", zip, "--image", query, "--output", results);

        CliHarness.AssertSuccess(search);
        List<ResultRow> rows = ReadResults(results);
        Assert.Equal(4, rows.Count);
        Assert.Equal(query, rows[0].NeighborPath);
        Assert.True(rows[0].Distance <= SameImageTolerance, $"distance to itself {rows[0].Distance}");
        Assert.Equal("fish", rows[0].Label);
    }

    [Fact]
    public void ExcludeSelfLeavesQueryOut()
    {
        string folder = CliHarness.TempDirectory();
        string images = CopySample(folder, perCategory: 2);
        string zip = Path.Combine(folder, "model.zip");

        CliHarness.AssertSuccess(CliHarness.Run("index", "--images", images, "--exclude-self", "--k", "3", "--output", zip));
        CliResult search = CliHarness.Run("search", "--model", zip, "--images", images, "--output", "-");

        CliHarness.AssertSuccess(search);
        List<ResultRow> rows = ParseResults(search.Output);
        Assert.Equal(12 * 3, rows.Count);
        Assert.DoesNotContain(rows, row => row.QueryPath == row.NeighborPath);
    }

    [Fact]
    public void DemoImagesReportsRetrievalMetrics()
    {
        CliResult result = CliHarness.Run("demo", "--images", "--json");

        CliHarness.AssertSuccess(result);
        using JsonDocument json = JsonDocument.Parse(result.Output);
        JsonElement root = json.RootElement;
        Assert.Equal(60, root.GetProperty("images").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());

        // NOTE: floors set under the values measured with ResNet18 on this sample (README.md lists them).
        Assert.True(root.GetProperty("recallAt").GetProperty("1").GetDouble() >= 0.3, result.Output);
        Assert.True(root.GetProperty("recallAt").GetProperty("10").GetDouble() >= 0.9, result.Output);
        Assert.True(root.GetProperty("mapAtR").GetDouble() >= 0.12, result.Output);
        Assert.True(root.GetProperty("reloadMaxEmbeddingDifference").GetSingle() <= 1e-5f, result.Output);
    }

    /// <summary>One row of the image search CSV.</summary>
    private sealed record ResultRow(string QueryPath, int Rank, long NeighborId, string NeighborPath, float Distance, string Label);

    /// <summary>Copies the first <paramref name="perCategory"/> files (ordinal order) of each sample category; returns the new images folder.</summary>
    private static string CopySample(string folder, int perCategory)
    {
        string images = Path.Combine(folder, "images");
        foreach (string category in Directory.GetDirectories(Sample))
        {
            string target = Path.Combine(images, Path.GetFileName(category));
            Directory.CreateDirectory(target);
            foreach (string file in Directory.GetFiles(category, "*.png").Order(StringComparer.Ordinal).Take(perCategory))
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return images;
    }

    private static string[] ReadFailurePaths(string path)
    {
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(ImageRetrieval.FailuresHeader, lines[0]);

        // The reason can contain commas, so only the first field is split off; these test paths have no commas.
        return lines.Skip(1).Select(line => line[..line.IndexOf(',', StringComparison.Ordinal)]).ToArray();
    }

    private static List<ResultRow> ReadResults(string path) => ParseResults(File.ReadAllText(path));

    private static List<ResultRow> ParseResults(string csv)
    {
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ImageSearchCommand.CsvHeader, lines[0]);
        return lines.Skip(1).Select(line =>
        {
            string[] f = line.Split(',');
            return new ResultRow(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture),
                f[3], float.Parse(f[4], CultureInfo.InvariantCulture), f[5]);
        }).ToList();
    }
}
