using System.Globalization;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>Bad files and arguments: a non-zero exit code and one "error:" line that names the culprit.</summary>
public sealed class CliErrorTests
{
    [Fact]
    public void MissingInputFileIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string missing = Path.Combine(folder, "missing.csv");

        CliResult result = CliHarness.Run("index", "--input", missing, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, missing);
    }

    [Fact]
    public void TruncatedFvecsIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string fvecs = Path.Combine(folder, "cut.fvecs");
        VectorFile.WriteFvecs(fvecs, new float[4 * 3], 3);
        byte[] bytes = File.ReadAllBytes(fvecs);
        File.WriteAllBytes(fvecs, bytes[..^5]);
        string model = Path.Combine(folder, "model.zip");

        CliResult result = CliHarness.Run("index", "--input", fvecs, "--output", model);

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, fvecs);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void NaNInCsvIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string csv = Path.Combine(folder, "nan.csv");
        File.WriteAllLines(csv, ["1,2,3", "4,NaN,6", "7,8,9"]);

        CliResult result = CliHarness.Run("index", "--input", csv, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, csv);
    }

    [Fact]
    public void UnknownOptionIsUsageError()
    {
        CliResult result = CliHarness.Run("search", "--model", "m.zip", "--queries", "q.csv", "--output", "r.csv", "--neighbours", "5");

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--neighbours");
    }

    [Fact]
    public void KAboveModelKIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        string csv = WriteSmallCsv(folder);
        string model = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", csv, "--k", "3", "--output", model));

        CliResult result = CliHarness.Run("search", "--model", model, "--queries", csv, "--k", "4", "--output", results);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, model);
        Assert.False(File.Exists(results));
    }

    [Fact]
    public void QueryDimensionMismatchIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string csv = WriteSmallCsv(folder);
        string model = Path.Combine(folder, "model.zip");
        string wide = Path.Combine(folder, "wide.csv");
        File.WriteAllLines(wide, ["1,2,3,4", "5,6,7,8"]);
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", csv, "--output", model));

        CliResult result = CliHarness.Run("search", "--model", model, "--queries", wide, "--output", Path.Combine(folder, "r.csv"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, wide);
    }

    [Fact]
    public void DamagedModelZipIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string csv = WriteSmallCsv(folder);
        string model = Path.Combine(folder, "model.zip");
        File.WriteAllText(model, "not a zip");

        CliResult result = CliHarness.Run("evaluate", "--model", model, "--queries", csv, "--labels", csv);

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, model);
    }

    [Fact]
    public void EvaluateWithoutLabelsIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        string csv = WriteSmallCsv(folder);
        string model = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", csv, "--output", model));

        CliResult result = CliHarness.Run("evaluate", "--model", model, "--queries", csv);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, csv);
    }

    [Fact]
    public void VerboseAddsStackTrace()
    {
        string folder = CliHarness.TempDirectory();
        string missing = Path.Combine(folder, "missing.csv");

        CliResult result = CliHarness.Run("index", "--input", missing, "--output", Path.Combine(folder, "model.zip"), "--verbose");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.ErrorLines[0], StringComparison.Ordinal);
        Assert.Contains(" at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void CancelledRunExits130()
    {
        string folder = CliHarness.TempDirectory();
        string csv = WriteSmallCsv(folder);
        string model = Path.Combine(folder, "model.zip");
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        CliResult result = CliHarness.Run(cancellation.Token, "index", "--input", csv, "--output", model);

        Assert.Equal(130, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "cancelled");
        Assert.False(File.Exists(model));
    }

    private static string WriteSmallCsv(string folder)
    {
        string csv = Path.Combine(folder, "small.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 8).Select(i => string.Join(',', i.ToString(CultureInfo.InvariantCulture), (i % 3).ToString(CultureInfo.InvariantCulture), "1")));
        return csv;
    }
}
