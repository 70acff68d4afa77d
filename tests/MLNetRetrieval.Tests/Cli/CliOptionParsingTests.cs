namespace MLNetRetrieval.Tests.Cli;

/// <summary>Invalid option values: a usage error (exit 2) with one "error:" line, never a crash.</summary>
public sealed class CliOptionParsingTests
{
    [Theory]
    [InlineData("--k", "abc", "index", "--input", "v.csv", "-o", "m.zip")]
    [InlineData("--k", "99999999999", "index", "--input", "v.csv", "-o", "m.zip")]
    [InlineData("--k", "1048577", "index", "--input", "v.csv", "-o", "m.zip")]
    [InlineData("--k", "0", "index", "--input", "v.csv", "-o", "m.zip")]
    [InlineData("--threads", "abc", "index", "--input", "v.csv", "-o", "m.zip")]
    [InlineData("--threads", "-1", "index", "--input", "v.csv", "-o", "m.zip")]
    [InlineData("--k", "1x", "search", "-m", "m.zip", "--queries", "q.csv", "-o", "-")]
    [InlineData("--threads", "1.5", "search", "-m", "m.zip", "--queries", "q.csv", "-o", "-")]
    [InlineData("--threads", "x", "evaluate", "-m", "m.zip", "--queries", "q.csv")]
    [InlineData("--limit", "abc", "demo")]
    [InlineData("--limit", "1", "demo")]
    [InlineData("--k", "abc", "demo")]
    [InlineData("--threads", "abc", "demo")]
    [InlineData("--folds", "x", "verify")]
    [InlineData("--folds", "1", "verify")]
    [InlineData("--seed", "x", "verify")]
    [InlineData("--same-pairs", "x", "verify")]
    [InlineData("--different-pairs", "0", "verify")]
    public void BadIntegerIsUsageError(string option, string value, params string[] command)
    {
        CliResult result = CliHarness.Run([.. command, option, value]);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option);
        Assert.Contains($"'{value}'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void KLimitNamedInError()
    {
        CliResult result = CliHarness.Run("index", "--input", "v.csv", "-o", "m.zip", "--k", "2147483647");

        CliHarness.AssertOneErrorLine(result, "1048576");
    }
}
