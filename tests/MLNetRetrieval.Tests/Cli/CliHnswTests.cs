using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>index --type hnsw and the --ef option of search and evaluate.</summary>
public sealed class CliHnswTests
{
    private const int Dimension = 8;

    [Fact]
    public void IndexSearchEvaluateFlow()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, ids, labels) = WriteCollection(folder, count: 400, seed: 71);
        string model = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");

        CliResult index = CliHarness.Run("index", "--type", "hnsw", "--connectivity", "4", "--ef-construction", "20", "--ef", "8", "--metric", "cosine",
            "--input", fvecs, "--ids", ids, "--labels", labels, "--k", "6", "--exclude-self", "--seed", "3", "--threads", "1", "--output", model, "--json");
        CliResult search = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--ef", "50", "--output", results, "--json");
        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels, "--ef", "50", "--recall", "1,5", "--json");

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        CliHarness.AssertSuccess(evaluate);
        Assert.Contains("\"connectivity\": 4", index.Output, StringComparison.Ordinal);
        Assert.Contains("\"ef\": 50", search.Output, StringComparison.Ordinal);
        var (expectedIds, stored) = DirectSearch(model, fvecs, ids, efSearch: 50);
        Assert.Equal(8, stored);
        List<NeighborRow> rows = CliHarness.ReadResults(results);
        Assert.Equal(expectedIds.Where(id => id >= 0), rows.OrderBy(r => r.QueryId).ThenBy(r => r.Rank).Select(r => r.NeighborId));
        RankingReport report = RankingReport.FromJson(evaluate.Output);
        Assert.Equal(400, report.Queries.Count);
    }

    [Fact]
    public void SearchEfChangesResults()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, ids, _) = WriteCollection(folder, count: 600, seed: 72);
        string model = Path.Combine(folder, "model.zip");
        string narrow = Path.Combine(folder, "narrow.csv");
        string wide = Path.Combine(folder, "wide.csv");

        CliResult index = CliHarness.Run("index", "--type", "hnsw", "--connectivity", "2", "--ef-construction", "2", "--ef", "1",
            "--input", fvecs, "--ids", ids, "--k", "10", "--threads", "1", "--output", model);
        CliResult first = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--output", narrow);
        CliResult second = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ef", "300", "--scoring", "transform", "--output", wide);

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(first);
        CliHarness.AssertSuccess(second);
        Assert.NotEqual(File.ReadAllText(narrow), File.ReadAllText(wide));
        var (expectedIds, _) = DirectSearch(model, fvecs, ids, efSearch: 300);
        List<NeighborRow> rows = CliHarness.ReadResults(wide);
        Assert.Equal(expectedIds.Where(id => id >= 0), rows.OrderBy(r => r.QueryId).ThenBy(r => r.Rank).Select(r => r.NeighborId));
    }

    [Fact]
    public void EfOnExactModelIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, ids, labels) = WriteCollection(folder, count: 50, seed: 73);
        string model = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", fvecs, "--ids", ids, "--output", model));

        CliResult search = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ef", "40", "--output", Path.Combine(folder, "out.csv"));
        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels, "--ef", "40");

        Assert.Equal(2, search.ExitCode);
        CliHarness.AssertOneErrorLine(search, "--ef applies to HNSW models");
        Assert.Equal(2, evaluate.ExitCode);
        CliHarness.AssertOneErrorLine(evaluate, "--ef applies to HNSW models");
    }

    [Theory]
    [InlineData("index", "--connectivity", "1")]
    [InlineData("index", "--connectivity", "x")]
    [InlineData("index", "--connectivity", "1025")]
    [InlineData("index", "--ef-construction", "0")]
    [InlineData("index", "--ef", "-3")]
    [InlineData("search", "--ef", "0")]
    [InlineData("search", "--ef", "many")]
    [InlineData("evaluate", "--ef", "2.5")]
    public void BadGraphValueIsUsageError(string command, string option, string value)
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 20, seed: 74);
        string[] rest = command switch
        {
            "index" => ["--type", "hnsw", "--input", fvecs, "--output", Path.Combine(folder, "model.zip")],
            "search" => ["--model", Path.Combine(folder, "model.zip"), "--queries", fvecs, "--output", Path.Combine(folder, "out.csv")],
            _ => ["--model", Path.Combine(folder, "model.zip"), "--queries", fvecs],
        };

        CliResult result = CliHarness.Run([command, option, value, .. rest]);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option);
    }

    [Fact]
    public void GraphOptionNeedsHnswType()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 20, seed: 75);

        CliResult index = CliHarness.Run("index", "--ef", "32", "--input", fvecs, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(2, index.ExitCode);
        CliHarness.AssertOneErrorLine(index, "--type hnsw");
    }

    [Fact]
    public void HelpNamesGraphOptions()
    {
        CliResult index = CliHarness.Run("index", "--help");
        CliResult search = CliHarness.Run("search", "--help");

        Assert.Contains("--ef-construction", index.Output, StringComparison.Ordinal);
        Assert.Contains("links per graph node M", index.Output, StringComparison.Ordinal);
        Assert.Contains("candidates kept per query (efSearch)", search.Output, StringComparison.Ordinal);
    }

    private static (string Fvecs, string Ids, string Labels) WriteCollection(string folder, int count, int seed)
    {
        VectorSet vectors = CliHarness.GaussianVectors(count, Dimension, seed);
        string fvecs = Path.Combine(folder, "items.fvecs");
        string ids = Path.Combine(folder, "ids.txt");
        string labels = Path.Combine(folder, "labels.txt");
        VectorFile.WriteFvecs(fvecs, vectors.Values, Dimension);
        File.WriteAllLines(ids, Enumerable.Range(0, count).Select(i => (5 + (3 * i)).ToString(CultureInfo.InvariantCulture)));
        File.WriteAllLines(labels, Enumerable.Range(0, count).Select(i => ((char)('a' + (i % 3))).ToString()));
        return (fvecs, ids, labels);
    }

    /// <summary>Loads the model with plain ML.NET and searches every collection vector through the direct API; also returns the stored efSearch.</summary>
    private static (long[] Ids, int StoredEf) DirectSearch(string modelPath, string fvecs, string idsPath, int efSearch)
    {
        var ml = new MLContext(seed: 1);
        NeighborSearcher searcher = Assert.Single(ml.Retrieval().GetSearchers(ml.Model.Load(modelPath, out _)));
        VectorSet queries = VectorFile.Read(fvecs, new VectorReadOptions { IdsPath = idsPath });
        var ids = new long[queries.Count * searcher.NumberOfNeighbors];
        var distances = new float[ids.Length];
        searcher.Search(queries.Values, queries.Ids, ids, distances, new NeighborSearchSettings { EfSearch = efSearch }, threads: 1);
        return (ids, searcher.EfSearch);
    }
}
