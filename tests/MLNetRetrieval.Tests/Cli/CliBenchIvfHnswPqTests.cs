using System.Text.Json;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>bench --types ivf-hnsw-pq: the nprobe × coarse efSearch grid and the --coarse-check comparison.</summary>
public class CliBenchIvfHnswPqTests
{
    private static readonly Lazy<CliResult> Bench = new(() => CliHarness.Run("bench", "--synthetic", "1500", "--dimension", "16",
        "--max-queries", "20", "--types", "ivf-hnsw-pq", "--lists", "32", "--subquantizers", "4", "--probes", "1,4",
        "--ef", "8,32", "--connectivity", "6", "--iterations", "4", "--init", "random", "--coarse-ef", "12", "--coarse-check", "300",
        "--threads", "1", "--json"));

    [Fact]
    public void SweepCoversProbeEfGrid()
    {
        JsonElement[] rows = GraphRows();
        Assert.Equal([1, 4, 1, 4], rows.Select(r => r.GetProperty("probes").GetInt32()));
        Assert.Equal([8, 8, 32, 32], rows.Select(r => r.GetProperty("ef").GetInt32()));
    }

    [Fact]
    public void TrainingSettingsReported()
    {
        using JsonDocument json = Parse();
        Assert.Equal(12, json.RootElement.GetProperty("coarseEf").GetInt32());
        Assert.Equal("Random", json.RootElement.GetProperty("initialization").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("trainingIterations").GetInt32());
    }

    [Fact]
    public void IndexStoresCompressedCodes()
    {
        // 16 float components take 64 bytes; 4-byte codes, 8-byte ids, centroids and the graph stay below that.
        double bytesPerVector = GraphRows()[0].GetProperty("bytesPerVector").GetDouble();
        Assert.InRange(bytesPerVector, 12, 63);
    }

    [Fact]
    public void CoarseCheckComparesWithBruteForce()
    {
        using JsonDocument json = Parse();
        JsonElement check = json.RootElement.GetProperty("coarseChecks")[0];
        JsonElement[] assignment = check.GetProperty("assignment").EnumerateArray().ToArray();
        Assert.Equal("brute force", assignment[0].GetProperty("method").GetString());
        Assert.Equal(1.0, assignment[0].GetProperty("agreement").GetDouble());
        Assert.Equal(["hnsw", "hnsw", "hnsw"], assignment.Skip(1).Select(r => r.GetProperty("method").GetString()));
        Assert.All(assignment, r => Assert.Equal(300, r.GetProperty("rows").GetInt32()));
    }

    [Fact]
    public void CoarseCheckAddsExactProbing()
    {
        using JsonDocument json = Parse();
        string[] types = json.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(2, types.Count(t => t == "ivf-hnsw-pq (exact probing)"));
    }

    [Fact]
    public void SizeBreakdownAddsUp()
    {
        using JsonDocument json = Parse();
        JsonElement sizes = json.RootElement.GetProperty("coarseChecks")[0].GetProperty("sizes");
        long parts = new[] { "codes", "ids", "centroids", "codebooks", "graphAndHeaders" }.Sum(name => sizes.GetProperty(name).GetInt64());
        Assert.Equal(sizes.GetProperty("total").GetInt64(), parts);
        Assert.Equal(1500L * 4, sizes.GetProperty("codes").GetInt64());
    }

    private static JsonDocument Parse()
    {
        CliHarness.AssertSuccess(Bench.Value);
        return JsonDocument.Parse(Bench.Value.Output);
    }

    private static JsonElement[] GraphRows()
    {
        using JsonDocument json = Parse();
        return json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("type").GetString() == "ivf-hnsw-pq")
            .Select(r => r.Clone())
            .ToArray();
    }
}
