using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Cli;

/// <summary>index → search → evaluate on small CSV and .fvecs files, checked against naive computations.</summary>
public sealed class CliFlowTests
{
    private const double MetricTolerance = 1e-12;

    [Fact]
    public void CsvSearchMatchesNaiveNeighbors()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(60, 8, seed: 11);
        VectorSet queries = CliHarness.IntegerVectors(12, 8, seed: 12);
        string collectionCsv = Path.Combine(folder, "collection.csv");
        string queriesCsv = Path.Combine(folder, "queries.csv");
        VectorFile.WriteCsv(collectionCsv, collection);
        VectorFile.WriteCsv(queriesCsv, queries);
        string model = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");

        CliResult index = CliHarness.Run("index", "--input", collectionCsv, "--id-column", "id", "--label-column", "label", "--k", "7", "--output", model);
        CliResult search = CliHarness.Run("search", "--model", model, "--queries", queriesCsv, "--id-column", "id", "--label-column", "label", "--output", results);

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        List<NeighborRow> rows = CliHarness.ReadResults(results);
        Assert.Equal(12 * 7, rows.Count);
        var labelById = collection.Ids!.Zip(collection.Labels!).ToDictionary(p => p.First, p => p.Second);
        for (int q = 0; q < queries.Count; q++)
        {
            var expected = NaiveRetrieval.SquaredL2(collection, queries.GetVector(q), 7);
            NeighborRow[] got = rows.Where(r => r.QueryId == queries.Ids![q]).OrderBy(r => r.Rank).ToArray();
            Assert.Equal(expected.Select(n => n.Id), got.Select(r => r.NeighborId));
            Assert.Equal(expected.Select(n => (float)n.Distance), got.Select(r => r.Distance));
            Assert.Equal(expected.Select(n => labelById[n.Id]), got.Select(r => r.Label));
            Assert.Equal(Enumerable.Range(1, 7), got.Select(r => r.Rank));
        }
    }

    [Fact]
    public void FvecsLeaveOneOutMatchesNaive()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(50, 6, seed: 21);
        string fvecs = Path.Combine(folder, "items.fvecs");
        VectorFile.WriteFvecs(fvecs, collection.Values, collection.Dimension);
        (string ids, string labels) = CliHarness.WriteCompanions(folder, collection);
        string model = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");

        CliResult index = CliHarness.Run("index", "--input", fvecs, "--ids", ids, "--labels", labels, "--k", "5", "--exclude-self", "--output", model);
        CliResult search = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--output", results);

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        List<NeighborRow> rows = CliHarness.ReadResults(results);
        for (int q = 0; q < collection.Count; q++)
        {
            long queryId = collection.Ids![q];
            var expected = NaiveRetrieval.SquaredL2(collection, collection.GetVector(q), 5, excludedId: queryId);
            long[] got = rows.Where(r => r.QueryId == queryId).OrderBy(r => r.Rank).Select(r => r.NeighborId).ToArray();
            Assert.Equal(expected.Select(n => n.Id), got);
        }
    }

    [Fact]
    public void EvaluateMatchesNaiveMetrics()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(50, 6, seed: 31);
        (string model, string fvecs, string ids, string labels) = IndexLeaveOneOut(folder, collection, k: collection.Count - 1);

        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels,
            "--recall", "1,5", "--precision", "1,5", "--json");

        CliHarness.AssertSuccess(evaluate);
        RankingReport report = RankingReport.FromJson(evaluate.Output);
        NaiveRetrieval.Metrics expected = NaiveRetrieval.LeaveOneOut(collection, [1, 5], [1, 5]);
        Assert.Equal(expected.RecallAt[0], report.MeanRecall[0].Mean!.Value, MetricTolerance);
        Assert.Equal(expected.RecallAt[1], report.MeanRecall[1].Mean!.Value, MetricTolerance);
        Assert.Equal(expected.PrecisionAt[0], report.MeanPrecision[0].Mean!.Value, MetricTolerance);
        Assert.Equal(expected.PrecisionAt[1], report.MeanPrecision[1].Mean!.Value, MetricTolerance);
        Assert.Equal(expected.MeanAveragePrecision, report.MeanAveragePrecision!.Value, MetricTolerance);
        Assert.Equal(expected.MapAtR, report.MeanMapAtR!.Value, MetricTolerance);
    }

    [Fact]
    public void EvaluateAgreesWithLibraryEvaluate()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(40, 5, seed: 41);
        (string model, string fvecs, string ids, string labels) = IndexLeaveOneOut(folder, collection, k: 12);

        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels, "--ties", "average", "--json");

        CliHarness.AssertSuccess(evaluate);
        RankingReport cli = RankingReport.FromJson(evaluate.Output);
        var ml = new MLContext(seed: 5);
        ITransformer loaded = ml.Model.Load(model, out _);
        NeighborSearcher searcher = Assert.Single(ml.Retrieval().GetSearchers(loaded));
        IDataView scored = loaded.Transform(QueryView(ml, collection));
        RankingReport library = ml.Retrieval().Evaluate(scored, searcher, new RetrievalEvaluationOptions
        {
            LabelColumnName = "Label",
            QueryIdColumnName = "Id",
            Metrics = new MLNetRetrieval.Evaluation.RankingEvaluatorOptions { TieHandling = TieHandling.Average },
        });
        Assert.Equal(library.MeanRecall.Select(m => m.Mean), cli.MeanRecall.Select(m => m.Mean));
        Assert.Equal(library.MeanPrecision.Select(m => m.Mean), cli.MeanPrecision.Select(m => m.Mean));
        Assert.Equal(library.MeanAveragePrecision, cli.MeanAveragePrecision);
        Assert.Equal(library.MeanMapAtR, cli.MeanMapAtR);
        Assert.Equal(library.Queries.Select(q => q.AveragePrecision), cli.Queries.Select(q => q.AveragePrecision));
    }

    [Fact]
    public void BatchAndTransformScoringAgree()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(70, 9, seed: 51);
        (string model, string fvecs, string ids, _) = IndexLeaveOneOut(folder, collection, k: 20);
        string batch = Path.Combine(folder, "batch.csv");
        string transform = Path.Combine(folder, "transform.csv");

        CliResult first = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--k", "15", "--scoring", "batch", "--output", batch, "--json");
        CliResult second = CliHarness.Run("search", "--model", model, "--queries", fvecs, "--ids", ids, "--k", "15", "--scoring", "transform", "--output", transform);

        CliHarness.AssertSuccess(first);
        CliHarness.AssertSuccess(second);
        Assert.Contains("\"scoring\": \"batch\"", first.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(transform), File.ReadAllText(batch));
    }

    [Fact]
    public void NormalizedModelScoresThroughTransform()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.GaussianVectors(80, 10, seed: 61);
        VectorSet queries = CliHarness.GaussianVectors(10, 10, seed: 62);
        string collectionPath = Path.Combine(folder, "items.npy");
        string queriesPath = Path.Combine(folder, "queries.npy");
        VectorFile.WriteNpy(collectionPath, collection.Values, collection.Count, collection.Dimension);
        VectorFile.WriteNpy(queriesPath, queries.Values, queries.Count, queries.Dimension);
        string model = Path.Combine(folder, "model.zip");
        string results = Path.Combine(folder, "results.csv");

        CliResult index = CliHarness.Run("index", "--input", collectionPath, "--metric", "cosine", "--normalize", "--k", "6", "--output", model);
        CliResult search = CliHarness.Run("search", "--model", model, "--queries", queriesPath, "--output", results, "--json");
        CliResult batch = CliHarness.Run("search", "--model", model, "--queries", queriesPath, "--output", results, "--scoring", "batch");

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(search);
        Assert.Contains("\"scoring\": \"transform\"", search.Output, StringComparison.Ordinal);
        List<NeighborRow> rows = CliHarness.ReadResults(results);
        for (int q = 0; q < queries.Count; q++)
        {
            long[] expected = NaiveRetrieval.Cosine(collection, queries.GetVector(q), 6);
            Assert.Equal(expected, rows.Where(r => r.QueryId == q).OrderBy(r => r.Rank).Select(r => r.NeighborId));
        }

        Assert.Equal(2, batch.ExitCode);
        CliHarness.AssertOneErrorLine(batch, model);
    }

    [Fact]
    public void JudgmentsEvaluationMatchesHandComputed()
    {
        string folder = CliHarness.TempDirectory();
        // Four collection items on a line at 0, 1, 2, 3 and one query at 0: the ranking is 0, 1, 2, 3.
        string items = Path.Combine(folder, "items.csv");
        string query = Path.Combine(folder, "query.csv");
        File.WriteAllLines(items, ["x", "0", "1", "2", "3"]);
        File.WriteAllLines(query, ["x", "0"]);
        string judgments = Path.Combine(folder, "judgments.csv");
        // Item 1 is junk and leaves the ranking. Items 2 (positive) and 3 (hard) are relevant, and item 0 has grade 0 (non-relevant).
        File.WriteAllLines(judgments, ["query_id,item_id,grade", "0,1,junk", "0,2,positive", "0,3,hard", "0,0,0"]);
        string model = Path.Combine(folder, "model.zip");

        CliResult index = CliHarness.Run("index", "--input", items, "--k", "4", "--output", model);
        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", query, "--judgments", judgments, "--recall", "1,2", "--json");
        CliResult easy = CliHarness.Run("evaluate", "--model", model, "--queries", query, "--judgments", judgments, "--protocol", "easy", "--json");

        CliHarness.AssertSuccess(index);
        CliHarness.AssertSuccess(evaluate);
        RankingReport report = RankingReport.FromJson(evaluate.Output);
        // After junk removal the ranking is 0 (miss), 2 (hit), 3 (hit): AP = (1/2 + 2/3) / 2.
        Assert.Equal(0.0, report.MeanRecall[0].Mean);
        Assert.Equal(1.0, report.MeanRecall[1].Mean);
        Assert.Equal((0.5 + 2.0 / 3.0) / 2, report.MeanAveragePrecision!.Value, MetricTolerance);
        Assert.Equal(1, report.Queries[0].RemovedJunkCount);
        // Under the easy protocol the hard item 3 becomes junk too: ranking 0 (miss), 2 (hit), AP = 1/2.
        Assert.Equal(0.5, RankingReport.FromJson(easy.Output).MeanAveragePrecision!.Value, MetricTolerance);
    }

    [Fact]
    public void PerQueryFileHasOneRowPerQuery()
    {
        string folder = CliHarness.TempDirectory();
        VectorSet collection = CliHarness.IntegerVectors(30, 4, seed: 71);
        (string model, string fvecs, string ids, string labels) = IndexLeaveOneOut(folder, collection, k: 29);
        string perQuery = Path.Combine(folder, "per-query.csv");

        CliResult evaluate = CliHarness.Run("evaluate", "--model", model, "--queries", fvecs, "--ids", ids, "--labels", labels, "--per-query", perQuery);

        CliHarness.AssertSuccess(evaluate);
        Assert.Contains("MAP@R", evaluate.Output, StringComparison.Ordinal);
        string[] lines = File.ReadAllLines(perQuery);
        Assert.Equal("query_id,relevant_count,ranked_count,removed_junk_count,excluded,recall_at_1,recall_at_10,recall_at_100,precision_at_1,precision_at_10,average_precision,map_at_r,shorter_than_r", lines[0]);
        Assert.Equal(collection.Ids!.Select(id => id.ToString(CultureInfo.InvariantCulture)), lines.Skip(1).Select(line => line.Split(',')[0]));
    }

    /// <summary>Writes the collection as .fvecs with id and label files and indexes it with --exclude-self.</summary>
    private static (string Model, string Fvecs, string Ids, string Labels) IndexLeaveOneOut(string folder, VectorSet collection, int k)
    {
        string fvecs = Path.Combine(folder, "items.fvecs");
        VectorFile.WriteFvecs(fvecs, collection.Values, collection.Dimension);
        (string ids, string labels) = CliHarness.WriteCompanions(folder, collection);
        string model = Path.Combine(folder, "model.zip");
        CliResult index = CliHarness.Run("index", "--input", fvecs, "--ids", ids, "--labels", labels, "--k", k.ToString(CultureInfo.InvariantCulture), "--exclude-self", "--output", model);
        CliHarness.AssertSuccess(index);
        return (model, fvecs, ids, labels);
    }

    private static IDataView QueryView(MLContext ml, VectorSet vectors)
    {
        var rows = Enumerable.Range(0, vectors.Count).Select(i => new QueryRow
        {
            Features = vectors.GetVector(i).ToArray(),
            Id = vectors.Ids![i],
            Label = vectors.Labels![i],
        }).ToArray();
        SchemaDefinition definition = SchemaDefinition.Create(typeof(QueryRow));
        definition[nameof(QueryRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, vectors.Dimension);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    public sealed class QueryRow
    {
        public float[] Features = [];

        public long Id;

        public string Label = string.Empty;
    }
}
