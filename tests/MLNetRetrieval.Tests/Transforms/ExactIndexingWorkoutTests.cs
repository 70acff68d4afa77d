using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

public sealed class ExactIndexingWorkoutTests
{
    private const int Dimension = 5;

    private static ExactIndexingEstimator.Options LabelledOptions(int k = 4) => new()
    {
        FeatureColumnName = "Features",
        IdColumnName = "Id",
        LabelColumnName = "Label",
        NumberOfNeighbors = k,
    };

    [Fact]
    public void TransformMatchesNaiveSearch()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(60, Dimension, seed: 3);
        ItemRow[] queries = TestData.IntegerRows(25, Dimension, seed: 4);
        NeighborSearchingTransformer model = context.Retrieval().IndexExact(LabelledOptions()).Fit(TestData.View(context, collection, Dimension));

        IDataView scored = model.Transform(TestData.View(context, queries, Dimension));
        long[][] ids = scored.GetColumn<long[]>("NeighborIds").ToArray();
        float[][] distances = scored.GetColumn<float[]>("Distances").ToArray();
        string[][] labels = scored.GetColumn<string[]>("NeighborLabels").ToArray();

        for (int q = 0; q < queries.Length; q++)
        {
            var (expectedIds, expectedDistances) = TestData.NaiveSquaredL2(collection, queries[q].Features, 4);
            Assert.Equal(expectedIds, ids[q]);
            Assert.Equal(expectedDistances.Select(d => (float)d), distances[q]);
            Assert.Equal(expectedIds.Select(id => collection.Single(r => r.Id == id).Label), labels[q]);
        }
    }

    [Fact]
    public void FeatureColumnMayHaveAnyName()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(30, Dimension, seed: 8);
        IDataView view = context.Transforms.CopyColumns("Embedding", "Features").Fit(TestData.View(context, collection, Dimension))
            .Transform(TestData.View(context, collection, Dimension));
        var options = LabelledOptions(k: 2);
        options.FeatureColumnName = "Embedding";

        NeighborSearchingTransformer model = context.Retrieval().IndexExact(options).Fit(view);
        long[] first = model.Transform(view).GetColumn<long[]>("NeighborIds").First();

        Assert.Equal(TestData.NaiveSquaredL2(collection, collection[0].Features, 2).Ids, first);
    }

    [Fact]
    public void ExcludeSelfLeavesQueryOut()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(40, Dimension, seed: 5);
        var options = LabelledOptions(k: 3);
        options.ExcludeSelf = true;
        NeighborSearchingTransformer model = context.Retrieval().IndexExact(options).Fit(TestData.View(context, collection, Dimension));

        long[][] ids = model.Transform(TestData.View(context, collection, Dimension)).GetColumn<long[]>("NeighborIds").ToArray();

        for (int q = 0; q < collection.Length; q++)
            Assert.Equal(TestData.NaiveSquaredL2(collection, collection[q].Features, 3, excludedId: collection[q].Id).Ids, ids[q]);
    }

    [Fact]
    public void LargeKPadsWithMinusOne()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(3, Dimension, seed: 6);
        NeighborSearchingTransformer model = context.Retrieval().IndexExact(LabelledOptions(k: 5)).Fit(TestData.View(context, collection, Dimension));

        IDataView scored = model.Transform(TestData.View(context, collection, Dimension));
        long[] ids = scored.GetColumn<long[]>("NeighborIds").First();
        float[] distances = scored.GetColumn<float[]>("Distances").First();

        Assert.Equal(new long[] { -1, -1 }, ids[3..]);
        Assert.All(distances[3..], d => Assert.Equal(float.PositiveInfinity, d));
    }

    [Fact]
    public void SchemasAgreeWithTransformOutput()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(20, Dimension, seed: 7);
        IDataView view = TestData.View(context, collection, Dimension);
        ExactIndexingEstimator estimator = context.Retrieval().IndexExact(LabelledOptions());

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(view.Schema));
        NeighborSearchingTransformer model = estimator.Fit(view);
        DataViewSchema fromTransformer = model.GetOutputSchema(view.Schema);
        DataViewSchema fromData = model.Transform(view).Schema;

        string[] expected = { "Features", "Id", "Label", "NeighborIds", "Distances", "NeighborLabels" };
        Assert.Equal(expected, shape.Select(c => c.Name));
        Assert.Equal(expected, fromData.Where(c => !c.IsHidden).Select(c => c.Name));
        Assert.Equal(fromData.Select(c => (c.Name, c.Type.ToString())), fromTransformer.Select(c => (c.Name, c.Type.ToString())));
        foreach (SchemaShape.Column column in shape)
        {
            DataViewSchema.Column actual = fromData[column.Name];
            Assert.Equal(column.ItemType, (actual.Type as VectorDataViewType)?.ItemType ?? actual.Type);
            Assert.Equal(column.Kind == SchemaShape.Column.VectorKind.VariableVector, actual.Type is VectorDataViewType { Size: 0 });
        }
    }

    [Fact]
    public void PredictionEngineScoresOneRow()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(30, Dimension, seed: 8);
        IDataView view = TestData.View(context, collection, Dimension);
        NeighborSearchingTransformer model = context.Retrieval().IndexExact(LabelledOptions(k: 2)).Fit(view);
        SchemaDefinition inputDefinition = SchemaDefinition.Create(typeof(ItemRow));
        inputDefinition[nameof(ItemRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);

        var engine = context.Model.CreatePredictionEngine<ItemRow, NeighborPrediction>(model, inputSchemaDefinition: inputDefinition);
        NeighborPrediction prediction = engine.Predict(collection[7]);

        Assert.Equal(TestData.NaiveSquaredL2(collection, collection[7].Features, 2).Ids, prediction.NeighborIds);
    }

    [Fact]
    public void ChainWithNormalizerRoundTripsInProcess()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(50, Dimension, seed: 9, maxValue: 9);
        IDataView view = TestData.View(context, collection, Dimension);
        var pipeline = context.Transforms.NormalizeLpNorm("Features")
            .Append(context.Retrieval().IndexExact(new ExactIndexingEstimator.Options { IdColumnName = "Id", Metric = DistanceMetric.Cosine, NumberOfNeighbors = 6 }));
        ITransformer model = pipeline.Fit(view);
        string path = Path.Combine(TestData.TempDirectory(), "model.zip");

        context.Model.Save(model, view.Schema, path);
        ITransformer loaded = new MLContext(seed: 2).Model.Load(path, out _);

        Assert.Equal(model.Transform(view).GetColumn<long[]>("NeighborIds").ToArray(), loaded.Transform(view).GetColumn<long[]>("NeighborIds").ToArray());
        Assert.Equal(model.Transform(view).GetColumn<float[]>("Distances").ToArray(), loaded.Transform(view).GetColumn<float[]>("Distances").ToArray());
    }

    [Fact]
    public void GetSearchersFindsLoadedState()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(30, Dimension, seed: 10);
        IDataView view = TestData.View(context, collection, Dimension);
        ITransformer model = context.Transforms.NormalizeLpNorm("Features").Append(context.Retrieval().IndexExact(LabelledOptions(k: 7))).Fit(view);
        string path = Path.Combine(TestData.TempDirectory(), "model.zip");
        context.Model.Save(model, view.Schema, path);

        var loadContext = new MLContext(seed: 3);
        IReadOnlyList<NeighborSearcher> searchers = loadContext.Retrieval().GetSearchers(loadContext.Model.Load(path, out _));

        NeighborSearcher searcher = Assert.Single(searchers);
        Assert.Equal(DistanceMetric.SquaredEuclidean, searcher.Metric);
        Assert.Equal(30, searcher.Count);
        Assert.Equal(7, searcher.NumberOfNeighbors);
        Assert.Equal(collection.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count()), searcher.LabelCounts);
    }

    [Fact]
    public void LoadedModelSharesDecodedState()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(30, Dimension, seed: 14);
        IDataView view = TestData.View(context, collection, Dimension);
        ITransformer model = context.Retrieval().IndexExact(LabelledOptions(k: 3)).Fit(view);
        string path = Path.Combine(TestData.TempDirectory(), "model.zip");
        context.Model.Save(model, view.Schema, path);
        var loadContext = new MLContext(seed: 4);
        ITransformer loaded = loadContext.Model.Load(path, out _);

        long[] scored = loaded.Transform(view).GetColumn<long[]>("NeighborIds").First();
        NeighborSearcher first = loadContext.Retrieval().GetSearchers(loaded)[0];
        NeighborSearcher second = loadContext.Retrieval().GetSearchers(loaded)[0];

        Assert.Equal(3, scored.Length);
        Assert.Same(first.State, second.State);
    }

    [Fact]
    public void MissingFeatureColumnNamesColumn()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, TestData.IntegerRows(5, Dimension, seed: 11), Dimension);
        var estimator = context.Retrieval().IndexExact("Pixels");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(view));

        Assert.Contains("'Pixels'", error.Message);
    }

    [Fact]
    public void WrongQueryDimensionIsRejected()
    {
        var context = new MLContext(seed: 1);
        NeighborSearchingTransformer model = context.Retrieval().IndexExact().Fit(TestData.View(context, TestData.IntegerRows(5, Dimension, seed: 12), Dimension));
        IDataView queries = TestData.View(context, TestData.IntegerRows(2, Dimension + 1, seed: 13), Dimension + 1);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(queries));

        Assert.Contains("size 6", error.Message);
    }

    [Fact]
    public void OverlongLabelIsRejectedAtFit()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(3, Dimension, seed: 15);
        collection[1].Label = new string('x', SearchState.MaxLabelBytes + 1);

        var error = Assert.Throws<InvalidDataException>(() => context.Retrieval().IndexExact(LabelledOptions()).Fit(TestData.View(context, collection, Dimension)));

        Assert.Contains("Row 1", error.Message);
    }

    [Fact]
    public void HugeKIsRejected()
    {
        var context = new MLContext(seed: 1);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => context.Retrieval().IndexExact(numberOfNeighbors: int.MaxValue));

        Assert.Contains("between 1 and 1048576", error.Message);
    }

    [Fact]
    public void ExcludeSelfWithoutIdIsRejected()
    {
        var context = new MLContext(seed: 1);

        var error = Assert.Throws<ArgumentException>(() => context.Retrieval().IndexExact(new ExactIndexingEstimator.Options { ExcludeSelf = true }));

        Assert.Contains("QueryIdColumnName", error.Message);
    }

    public sealed class NeighborPrediction
    {
        public long[] NeighborIds = [];

        public float[] Distances = [];
    }
}
