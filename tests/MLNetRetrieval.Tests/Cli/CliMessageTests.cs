using System.Globalization;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>Messages and help text speak in CLI options, not in library property names.</summary>
public sealed class CliMessageTests
{
    private const string LibraryOptionsName = "VectorReadOptions";

    [Fact]
    public void NonFiniteHintNamesNoLibraryOption()
    {
        string folder = CliHarness.TempDirectory();
        string csv = Path.Combine(folder, "nan.csv");
        File.WriteAllLines(csv, ["1,2,3", "4,NaN,6"]);

        CliResult result = CliHarness.Run("index", "--input", csv, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, csv);
        Assert.DoesNotContain(LibraryOptionsName, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFormatHintNamesFormatOption()
    {
        string folder = CliHarness.TempDirectory();
        string unknown = WriteUnknownFile(folder);

        CliResult result = CliHarness.Run("index", "--input", unknown, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "or pass --format.");
        Assert.DoesNotContain(LibraryOptionsName, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyFormatHintDropped()
    {
        string folder = CliHarness.TempDirectory();
        string unknown = WriteUnknownFile(folder);
        string labels = Path.Combine(folder, "labels.txt");
        File.WriteAllLines(labels, ["a", "a", "b", "b"]);

        CliResult result = CliHarness.Run("verify", "--vectors", unknown, "--labels", labels, "--same-pairs", "1", "--different-pairs", "1",
            "--folds", "0", "--out", Path.Combine(folder, "report"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, unknown);
        Assert.DoesNotContain(LibraryOptionsName, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("--format", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void CutoffAboveKIsMarked()
    {
        string folder = CliHarness.TempDirectory();
        string csv = Path.Combine(folder, "vectors.csv");
        File.WriteAllLines(csv, ["id,label,x,y", .. Enumerable.Range(0, 12).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"{i},{(i % 2 == 0 ? "even" : "odd")},{i},{i % 3}"))]);
        string model = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", csv, "--id-column", "id", "--label-column", "label", "--k", "3", "--output", model));

        CliResult result = CliHarness.Run("evaluate", "-m", model, "--queries", csv, "--id-column", "id", "--label-column", "label",
            "--recall", "1,5", "--precision", "2");

        CliHarness.AssertSuccess(result);
        Assert.StartsWith("warning: Recall@5: cutoffs above the model's k = 3", result.Error, StringComparison.Ordinal);
        Assert.Contains("Recall@5 (truncated at k = 3)", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Recall@1 (truncated", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("P@2 (truncated", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpShowsCommaListDefaults()
    {
        CliResult result = CliHarness.Run("evaluate", "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("[default: 1,10,100]", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("1|10", result.Output, StringComparison.Ordinal);
    }

    private static string WriteUnknownFile(string folder)
    {
        string path = Path.Combine(folder, "vectors.bin");
        File.WriteAllBytes(path, [0x7A, 0x7A, 0x7A, 0x7A, 0x00, 0x01]);
        return path;
    }
}
