using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Tests.Transforms;
using MLNetRetrieval.Transforms;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Verification;

/// <summary>A row with two embeddings.</summary>
public sealed class PairRow
{
    public float[] First = [];

    public float[] Second = [];
}

/// <summary>The pair-scoring transform: schema, values and the model zip round trip.</summary>
public sealed class VerificationScoringTests
{
    private const int Dimension = 6;

    private static PairRow[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new PairRow
        {
            First = Enumerable.Range(0, Dimension).Select(_ => (float)random.Next(-3, 4)).ToArray(),
            Second = Enumerable.Range(0, Dimension).Select(_ => (float)random.Next(-3, 4)).ToArray(),
        }).ToArray();
    }

    private static IDataView View(MLContext context, PairRow[] rows)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(PairRow));
        definition[nameof(PairRow.First)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        definition[nameof(PairRow.Second)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        return context.Data.LoadFromEnumerable(rows, definition);
    }

    private static (float[] Scores, bool[]? Matches) Read(IDataView scored)
    {
        float[] scores = scored.GetColumn<float>("Score").ToArray();
        bool[]? matches = scored.Schema.GetColumnOrNull("IsMatch") is null ? null : scored.GetColumn<bool>("IsMatch").ToArray();
        return (scores, matches);
    }

    [Theory]
    [InlineData(PairScoreKind.Cosine)]
    [InlineData(PairScoreKind.NegativeSquaredEuclidean)]
    public void ScoresMatchPairScorer(PairScoreKind kind)
    {
        var context = new MLContext(seed: 1);
        PairRow[] rows = Rows(50, seed: 3);
        IDataView view = View(context, rows);

        var (scores, _) = Read(context.Retrieval().ScorePairs("First", "Second", kind).Fit(view).Transform(view));

        for (int i = 0; i < rows.Length; i++)
            Assert.Equal(PairScorer.Score(rows[i].First, rows[i].Second, kind), scores[i]);
    }

    [Fact]
    public void ThresholdAddsMatchColumn()
    {
        var context = new MLContext(seed: 1);
        PairRow[] rows = Rows(50, seed: 4);
        IDataView view = View(context, rows);

        var (scores, matches) = Read(context.Retrieval().ScorePairs("First", "Second", threshold: 0.1f).Fit(view).Transform(view));

        Assert.NotNull(matches);
        Assert.Equal(scores.Select(s => s >= 0.1f), matches);
        Assert.Contains(true, matches);
        Assert.Contains(false, matches);
    }

    [Fact]
    public void NoThresholdNoMatchColumn()
    {
        var context = new MLContext(seed: 1);
        IDataView view = View(context, Rows(3, seed: 5));

        DataViewSchema schema = context.Retrieval().ScorePairs("First", "Second").Fit(view).GetOutputSchema(view.Schema);

        Assert.Null(schema.GetColumnOrNull("IsMatch"));
        Assert.Equal(NumberDataViewType.Single, schema["Score"].Type);
    }

    [Fact]
    public void EstimatorSchemaMatchesOutput()
    {
        var context = new MLContext(seed: 1);
        IDataView view = View(context, Rows(3, seed: 5));
        VerificationScoringEstimator estimator = context.Retrieval().ScorePairs("First", "Second", threshold: 0.5f);

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(view.Schema));
        DataViewSchema actual = estimator.Fit(view).Transform(view).Schema;

        Assert.Equal(actual.Select(c => c.Name), shape.Select(c => c.Name));
        Assert.Equal(BooleanDataViewType.Instance, shape.Single(c => c.Name == "IsMatch").ItemType);
    }

    [Fact]
    public void UnequalSizesRejected()
    {
        var context = new MLContext(seed: 1);
        SchemaDefinition definition = SchemaDefinition.Create(typeof(PairRow));
        definition[nameof(PairRow.First)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        definition[nameof(PairRow.Second)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension + 1);
        IDataView bad = context.Data.LoadFromEnumerable(new[] { new PairRow { First = new float[Dimension], Second = new float[Dimension + 1] } }, definition);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => context.Retrieval().ScorePairs("First", "Second").Fit(bad));

        Assert.Contains("7", error.Message);
    }

    [Fact]
    public void ModelZipRoundTripBitIdentical()
    {
        var context = new MLContext(seed: 1);
        PairRow[] rows = Rows(80, seed: 6);
        IDataView view = View(context, rows);
        ITransformer model = context.Transforms.NormalizeLpNorm("First")
            .Append(context.Retrieval().ScorePairs("First", "Second", PairScoreKind.NegativeSquaredEuclidean, threshold: -20f))
            .Fit(view);
        string folder = TestData.TempDirectory();
        string path = Path.Combine(folder, "pairs.zip");
        context.Model.Save(model, view.Schema, path);

        var loadContext = new MLContext(seed: 2);
        ITransformer loaded = loadContext.Model.Load(path, out DataViewSchema inputSchema);
        var (expectedScores, expectedMatches) = Read(model.Transform(view));
        var (actualScores, actualMatches) = Read(loaded.Transform(View(loadContext, rows)));

        Assert.Equal(inputSchema.Select(c => c.Name), view.Schema.Select(c => c.Name));
        Assert.Equal(expectedScores.Select(BitConverter.SingleToInt32Bits), actualScores.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expectedMatches, actualMatches);
        Assert.Contains(true, actualMatches!);
        Assert.Contains(false, actualMatches!);
        Directory.Delete(folder, recursive: true);
    }
}
