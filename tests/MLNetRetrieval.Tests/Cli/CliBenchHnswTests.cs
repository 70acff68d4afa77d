using System.Text.Json;
using MLNetRetrieval.Cli;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>bench --types hnsw: the efSearch sweep, its recall and its size per vector.</summary>
public class CliBenchHnswTests
{
    private const int Dimension = 16;
    private const int BaseCount = 1200;
    private const int QueryCount = 30;
    private const int K = 10;

    [Fact]
    public void HnswSweepMatchesDirectIndex()
    {
        CliResult bench = CliHarness.Run("bench", "--synthetic", BaseCount.ToString(), "--dimension", Dimension.ToString(),
            "--max-queries", QueryCount.ToString(), "--types", "hnsw", "--connectivity", "6", "--ef-construction", "30",
            "--ef", "4,40", "--seed", "9", "--threads", "1", "--json");

        CliHarness.AssertSuccess(bench);
        using JsonDocument json = JsonDocument.Parse(bench.Output);
        JsonElement[] rows = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal([4, 40], rows.Select(r => r.GetProperty("ef").GetInt32()));
        Assert.All(rows, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("probes").ValueKind));
        Assert.Equal(6, json.RootElement.GetProperty("connectivity").GetInt32());

        // The same seed, settings and one insertion thread give the same graph, so the recall must match exactly.
        var (baseSet, queries) = BenchSynthetic.Generate(BaseCount, BenchSynthetic.QueryCount, Dimension);
        var graph = new HnswIndex(Dimension, DistanceMetric.SquaredEuclidean, new HnswOptions { Connectivity = 6, EfConstruction = 30, Seed = 9 });
        graph.Add(baseSet.Values, threads: 1);
        Assert.Equal(DirectRecall(graph, baseSet, queries, ef: 4), rows[0].GetProperty("recall").GetDouble(), 12);
        Assert.Equal(DirectRecall(graph, baseSet, queries, ef: 40), rows[1].GetProperty("recall").GetDouble(), 12);

        using var saved = new MemoryStream();
        graph.Save(saved);
        Assert.Equal((double)saved.Length / BaseCount, rows[0].GetProperty("bytesPerVector").GetDouble(), 9);
    }

    [Fact]
    public void HnswTableShowsEfColumn()
    {
        CliResult bench = CliHarness.Run("bench", "--synthetic", "300", "--dimension", "8", "--max-queries", "5",
            "--types", "hnsw", "--ef", "12", "--threads", "1");

        CliHarness.AssertSuccess(bench);
        Assert.Contains("│ ef ", bench.Output, StringComparison.Ordinal);
        Assert.Contains("│ 12 ", bench.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void HnswRejectsZeroEf()
    {
        CliResult bench = CliHarness.Run("bench", "--synthetic", "300", "--dimension", "8", "--types", "hnsw", "--ef", "0");

        CliHarness.AssertOneErrorLine(bench, "--ef");
    }

    /// <summary>Recall@k of the graph against float64 brute force, pooled over the first queries.</summary>
    private static double DirectRecall(HnswIndex graph, VectorSet baseSet, VectorSet queries, int ef)
    {
        var ids = new long[K];
        var distances = new float[K];
        int hits = 0;
        for (int q = 0; q < QueryCount; q++)
        {
            ReadOnlySpan<float> query = queries.GetVector(q);
            graph.Search(query, K, ids, distances, new HnswSearchParameters { EfSearch = ef, Threads = 1 });
            var expected = NaiveRetrieval.SquaredL2(baseSet, query, K).Select(p => p.Id).ToHashSet();
            hits += ids.Count(expected.Contains);
        }

        return (double)hits / (QueryCount * K);
    }
}
