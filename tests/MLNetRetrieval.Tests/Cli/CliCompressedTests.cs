using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>index --type for the compressed indexes, --probes on loaded models, and the bench command.</summary>
public sealed class CliCompressedTests
{
    private const int Dimension = 8;

    [Fact]
    public void DefaultProbesFollowSmallListCount()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 200, seed: 63);

        CliResult index = CliHarness.Run("index", "--type", "ivf-flat", "--lists", "4", "--input", fvecs, "--output", Path.Combine(folder, "model.zip"), "--json");

        CliHarness.AssertSuccess(index);
        Assert.Contains("\"probes\": 4", index.Output.Replace("\"probes\":4", "\"probes\": 4"));
    }

    [Theory]
    [InlineData("pq", "--subquantizers", "4")]
    [InlineData("ivf-flat", "--lists", "8")]
    [InlineData("ivf-pq", "--lists", "8")]
    public void IndexSearchEvaluateFlow(string type, string option, string value)
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, ids, labels) = WriteCollection(folder, count: 400, seed: 61);
        string model = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");
        string[] extra = type == "ivf-pq" ? ["--subquantizers", "4", "--probes", "3"] : [];

        CliResult index = CliHarness.Run(["index", "--type", type, option, value, .. extra, "--input", fvecs, "--ids", ids, "--labels", labels, "--k", "6", "--exclude-self", "--seed", "3", "--output", model]);
        CliResult search = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--output", results);
        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels, "--recall", "1,5", "--json");

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        CliHarness.AssertSuccess(evaluate);
        var (expectedIds, _) = DirectSearch(model, fvecs, ids, probes: null);
        List<NeighborRow> rows = CliHarness.ReadResults(results);
        Assert.Equal(expectedIds.Where(id => id >= 0), rows.OrderBy(r => r.QueryId).ThenBy(r => r.Rank).Select(r => r.NeighborId));
        RankingReport report = RankingReport.FromJson(evaluate.Output);
        Assert.InRange(report.MeanRecall[1].Mean!.Value, 0.0, 1.0);
        Assert.Equal(400, report.Queries.Count);
    }

    [Fact]
    public void SearchProbesReachExactResults()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, ids, labels) = WriteCollection(folder, count: 300, seed: 62);
        VectorSet collection = VectorFile.Read(fvecs, new VectorReadOptions { IdsPath = ids });
        string model = Path.Combine(folder, "model.zip");
        string fewProbes = Path.Combine(folder, "one.csv");
        string allProbes = Path.Combine(folder, "all.csv");

        CliResult index = CliHarness.Run("index", "--type", "ivf-flat", "--lists", "8", "--probes", "1", "--input", fvecs, "--ids", ids, "--labels", labels, "--k", "5", "--output", model);
        CliResult first = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--probes", "1", "--output", fewProbes);
        CliResult second = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--probes", "8", "--scoring", "transform", "--output", allProbes, "--json");

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(first);
        CliHarness.AssertSuccess(second);
        Assert.Contains("\"probes\": 8", second.Output, StringComparison.Ordinal);
        Assert.NotEqual(File.ReadAllText(fewProbes), File.ReadAllText(allProbes));
        List<NeighborRow> rows = CliHarness.ReadResults(allProbes);
        for (int q = 0; q < collection.Count; q += 7)
        {
            long queryId = collection.Ids![q];
            var expected = NaiveRetrieval.SquaredL2(collection, collection.GetVector(q), 5);
            Assert.Equal(expected.Select(n => n.Id), rows.Where(r => r.QueryId == queryId).OrderBy(r => r.Rank).Select(r => r.NeighborId));
        }
    }

    [Fact]
    public void ProbesOnExactModelIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, ids, _) = WriteCollection(folder, count: 50, seed: 63);
        string model = Path.Combine(folder, "model.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", fvecs, "--ids", ids, "--output", model));

        CliResult search = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--probes", "4", "--output", Path.Combine(folder, "out.csv"));

        Assert.Equal(2, search.ExitCode);
        CliHarness.AssertOneErrorLine(search, "--probes applies to IVF models");
    }

    [Fact]
    public void CompressedTypeRejectsInnerProduct()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 50, seed: 64);

        CliResult index = CliHarness.Run("index", "--type", "pq", "--metric", "ip", "--input", fvecs, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(2, index.ExitCode);
        CliHarness.AssertOneErrorLine(index, "--metric l2");
    }

    [Fact]
    public void ProbesAboveListsIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 50, seed: 65);

        CliResult index = CliHarness.Run("index", "--type", "ivf-flat", "--lists", "4", "--probes", "9", "--input", fvecs, "--output", Path.Combine(folder, "model.zip"));

        Assert.Equal(2, index.ExitCode);
        CliHarness.AssertOneErrorLine(index, "--probes");
    }

    [Fact]
    public void BenchPrintsRowPerProbe()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 400, seed: 66);
        string queries = Path.Combine(folder, "queries.fvecs");
        VectorFile.WriteFvecs(queries, CliHarness.GaussianVectors(40, Dimension, seed: 67).Values, Dimension);

        CliResult bench = CliHarness.Run("bench", "--base", fvecs, "--queries", queries, "--types", "exact,pq,ivf-flat,ivf-pq",
            "--lists", "8", "--probes", "1,2,8,16", "--subquantizers", "4", "--json");

        CliHarness.AssertSuccess(bench);
        using JsonDocument json = JsonDocument.Parse(bench.Output);
        JsonElement[] rows = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(["exact", "pq", "ivf-flat", "ivf-flat", "ivf-flat", "ivf-pq", "ivf-pq", "ivf-pq"], rows.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal(1.0, rows[0].GetProperty("recall").GetDouble());
        Assert.Equal(1.0, rows[4].GetProperty("recall").GetDouble());
        Assert.True(rows[2].GetProperty("recall").GetDouble() < 1.0, "one probe of eight lists should miss neighbors");
        Assert.All(rows, r => Assert.InRange(r.GetProperty("recall").GetDouble(), 0.0, 1.0));
        // Exact search stores 4 bytes per component and an 8-byte id per vector, plus a small header.
        Assert.InRange(rows[0].GetProperty("bytesPerVector").GetDouble(), (4.0 * Dimension) + 8, (4.0 * Dimension) + 9);
        Assert.True(rows[1].GetProperty("bytesPerVector").GetDouble() < rows[0].GetProperty("bytesPerVector").GetDouble());
    }

    [Fact]
    public void BenchTableShowsRecallHeader()
    {
        string folder = CliHarness.TempDirectory();
        var (fvecs, _, _) = WriteCollection(folder, count: 300, seed: 68);

        CliResult bench = CliHarness.Run("bench", "--base", fvecs, "--queries", fvecs, "--max-queries", "20", "--types", "ivf-flat", "--lists", "4", "--probes", "1,4", "--k", "5");

        CliHarness.AssertSuccess(bench);
        Assert.Contains("recall@5", bench.Output, StringComparison.Ordinal);
        Assert.Equal(2, bench.Output.Split('\n').Count(line => line.Contains("ivf-flat", StringComparison.Ordinal)));
    }

    /// <summary>Writes seeded Gaussian vectors (no ties) with ids 5 + 3i and labels by i mod 3.</summary>
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

    /// <summary>Loads the model with plain ML.NET and searches every collection vector through the direct API.</summary>
    private static (long[] Ids, float[] Distances) DirectSearch(string modelPath, string fvecs, string idsPath, int? probes)
    {
        var ml = new MLContext(seed: 1);
        NeighborSearcher searcher = Assert.Single(ml.Retrieval().GetSearchers(ml.Model.Load(modelPath, out _)));
        VectorSet queries = VectorFile.Read(fvecs, new VectorReadOptions { IdsPath = idsPath });
        var ids = new long[queries.Count * searcher.NumberOfNeighbors];
        var distances = new float[ids.Length];
        searcher.Search(queries.Values, queries.Ids, ids, distances, new NeighborSearchSettings { NumberOfProbes = probes }, threads: 1);
        return (ids, distances);
    }
}
