using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.Cli;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>Zero vectors under the cosine metric: a data error that names the file and the row in the file.</summary>
public sealed class CliZeroVectorTests
{
    private const int QueryCount = 1500;
    private const int ZeroRow = 1300;

    [Fact]
    public void ZeroIndexVectorIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        string csv = Path.Combine(folder, "zero.csv");
        File.WriteAllLines(csv, ["a,b", "1,0", "0,0", "1,1"]);
        string model = Path.Combine(folder, "model.zip");

        CliResult result = CliHarness.Run("index", "--input", csv, "--metric", "cosine", "--output", model);

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, csv);
        Assert.Contains("row 1 ", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(model));
    }

    [Theory]
    [InlineData("batch", false)]
    [InlineData("transform", false)]
    [InlineData("auto", true)]
    public void ZeroQueryNamesFileRow(string scoring, bool normalize)
    {
        string folder = CliHarness.TempDirectory();
        string model = BuildCosineModel(folder, normalize);
        string queries = WriteQueries(folder);

        CliResult result = CliHarness.Run("search", "--model", model, "--queries", queries, "--scoring", scoring, "-o", "-");

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, queries);
        Assert.Contains($"row {ZeroRow} (rows counted from 0)", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void TransformErrorShowsCause()
    {
        string folder = CliHarness.TempDirectory();
        string modelPath = BuildCosineModel(folder, normalize: true);
        var ml = new MLContext(seed: 1);
        ModelFile model = ModelFile.Load(ml, modelPath);
        VectorSet queries = VectorFile.Read(WriteQueries(folder));
        long[] ids = VectorViews.IdsOf(queries);

        // The transform path without the CLI's zero-query check: ML.NET wraps the index's error.
        Exception error = Assert.ThrowsAny<Exception>(() =>
        {
            foreach (ScoredQuery unused in QueryScoring.ThroughTransform(model.Model, VectorViews.Create(ml, queries), ids, 2, 2, CancellationToken.None))
            {
            }
        });

        string text = ExceptionText.Describe(error);
        Assert.Contains("zero vector", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Splitter/consolidator", text, StringComparison.Ordinal);
    }

    [Fact]
    public void FailedFirstQueryWritesNoHeader()
    {
        var model = ModelFile.Load(new MLContext(seed: 1), BuildCosineModel(CliHarness.TempDirectory(), normalize: false));
        var output = new StringWriter();

        Assert.Throws<InvalidDataException>(() => SearchCommand.WriteCsv(output, FailingQueries(), model.Searcher, NullSink.Instance));

        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void NoQueriesWritesHeaderOnly()
    {
        var model = ModelFile.Load(new MLContext(seed: 1), BuildCosineModel(CliHarness.TempDirectory(), normalize: false));
        var output = new StringWriter();

        long rows = SearchCommand.WriteCsv(output, [], model.Searcher, NullSink.Instance);

        Assert.Equal(0, rows);
        Assert.Equal(SearchCommand.CsvHeader + Environment.NewLine, output.ToString());
    }

    private static IEnumerable<ScoredQuery> FailingQueries()
    {
        throw new InvalidDataException("first block failed");
#pragma warning disable CS0162 // The yield makes this an iterator, so the throw happens on the first MoveNext.
        yield break;
#pragma warning restore CS0162
    }

    private static string BuildCosineModel(string folder, bool normalize)
    {
        string csv = Path.Combine(folder, "collection.csv");
        File.WriteAllLines(csv, ["1,0", "0,1", "1,1", "2,1"]);
        string model = Path.Combine(folder, normalize ? "cosine-normalized.zip" : "cosine.zip");
        string[] args = ["index", "--input", csv, "--metric", "cosine", "--k", "2", "--output", model];
        CliHarness.AssertSuccess(CliHarness.Run(normalize ? [.. args, "--normalize"] : args));
        return model;
    }

    /// <summary>Writes 1500 two-component queries, more than one batch of 1024, with a zero vector at row 1300.</summary>
    private static string WriteQueries(string folder)
    {
        string csv = Path.Combine(folder, "queries.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, QueryCount).Select(i => i == ZeroRow
            ? "0,0"
            : string.Create(CultureInfo.InvariantCulture, $"{1 + (i % 5)},{i % 3}")));
        return csv;
    }

    private sealed class NullSink : IProgressSink
    {
        public static readonly NullSink Instance = new();

        public void Advance(long units)
        {
        }

        public void Restart(string description, long total)
        {
        }

        public void Set(long done)
        {
        }
    }
}
