using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.Tests.Transforms;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.MetricLearning.Transforms;

/// <summary>Schema, label types and errors of the metric-learning estimator and its transformer.</summary>
public sealed class MetricLearningEstimatorTests
{
    [Fact]
    public void OutputSchemaAddsEmbeddingColumn()
    {
        var context = new MLContext(seed: 1);
        IDataView view = MetricTestData.View(context, MetricTestData.Clusters(10, 3, seed: 2));
        MetricLearningEstimator estimator = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions());

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(view.Schema));
        SchemaShape.Column column = shape.Single(c => c.Name == "Embedding");

        Assert.Equal(SchemaShape.Column.VectorKind.Vector, column.Kind);
        Assert.Equal(NumberDataViewType.Single, column.ItemType);
    }

    [Fact]
    public void TransformerSchemaMatchesTransformedData()
    {
        var context = new MLContext(seed: 1);
        IDataView view = MetricTestData.View(context, MetricTestData.Clusters(10, 3, seed: 2));
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions()).Fit(view);

        DataViewSchema predicted = model.GetOutputSchema(view.Schema);
        IDataView transformed = model.Transform(view);

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, MetricTestData.EmbeddingDimension), predicted["Embedding"].Type);
        Assert.Equal(predicted["Embedding"].Type, transformed.Schema["Embedding"].Type);
        Assert.Equal(predicted.Select(c => c.Name), transformed.Schema.Select(c => c.Name));
    }

    [Fact]
    public void EmbeddingEqualsHeadOnScaledInput()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(10, 3, seed: 2);
        IDataView view = MetricTestData.View(context, rows);
        MetricLearningEstimator.Options options = MetricTestData.FastOptions();
        options.InputScale = 0.25f;
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", options).Fit(view);

        float[] embedded = MetricTestData.ReadVectors(model.Transform(view), "Embedding");
        float[] scaled = rows.SelectMany(r => r.Features).Select(v => v * 0.25f).ToArray();
        var expected = new float[rows.Length * MetricTestData.EmbeddingDimension];
        model.Head.Transform(scaled, expected);

        Assert.Equal(MetricTestData.Bits(expected), MetricTestData.Bits(embedded));
    }

    [Fact]
    public void TextKeyAndIntegerLabelsAgree()
    {
        var context = new MLContext(seed: 1);
        IDataView view = MetricTestData.View(context, MetricTestData.Clusters(12, 3, seed: 4));
        IDataView keyed = context.Transforms.Conversion.MapValueToKey("LabelKey", "Label").Fit(view).Transform(view);

        float[] text = Embed(context, keyed, "Label");
        float[] key = Embed(context, keyed, "LabelKey");
        float[] integer = Embed(context, keyed, nameof(LabeledRow.ClassNumber));

        Assert.Equal(MetricTestData.Bits(text), MetricTestData.Bits(key));
        Assert.Equal(MetricTestData.Bits(text), MetricTestData.Bits(integer));
    }

    [Fact]
    public void MissingFeatureColumnRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView view = MetricTestData.View(context, MetricTestData.Clusters(5, 2, seed: 2));
        MetricLearningEstimator estimator = context.Retrieval().TrainMetric("Embedding", "Pixels", "Label", MetricTestData.FastOptions());

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(TestData.ShapeOf(view.Schema)));

        Assert.Contains("'Pixels'", error.Message);
    }

    [Fact]
    public void VectorLabelColumnRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView view = MetricTestData.View(context, MetricTestData.Clusters(5, 2, seed: 2));
        MetricLearningEstimator estimator = context.Retrieval().TrainMetric("Embedding", "Features", "Features", MetricTestData.FastOptions());

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(view));

        Assert.Contains("label column 'Features'", error.Message);
    }

    [Fact]
    public void SingleClassRejected()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(10, 2, seed: 2);
        foreach (LabeledRow row in rows)
            row.Label = "only";
        MetricLearningEstimator estimator = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions());

        var error = Assert.Throws<InvalidOperationException>(() => estimator.Fit(MetricTestData.View(context, rows)));

        Assert.Contains("at least two classes", error.Message);
    }

    [Fact]
    public void EmptyLabelRejectedWithRow()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(10, 2, seed: 2);
        rows[7].Label = "";
        MetricLearningEstimator estimator = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions());

        var error = Assert.Throws<InvalidDataException>(() => estimator.Fit(MetricTestData.View(context, rows)));

        Assert.Contains("Row 7", error.Message);
    }

    [Fact]
    public void WrongInputSizeRejected()
    {
        var context = new MLContext(seed: 1);
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions())
            .Fit(MetricTestData.View(context, MetricTestData.Clusters(10, 2, seed: 2)));
        IDataView other = TestData.View(context, TestData.IntegerRows(5, 7, seed: 3), 7);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(other));

        Assert.Contains("size 7", error.Message);
    }

    [Fact]
    public void MarginOnSoftmaxRejected()
    {
        var context = new MLContext(seed: 1);
        MetricLearningEstimator.Options options = MetricTestData.FastOptions(MetricLossKind.Softmax);
        options.Loss.Margin = 0.3;

        var error = Assert.Throws<ArgumentException>(() => context.Retrieval().TrainMetric("Embedding", "Features", "Label", options));

        Assert.Equal("Margin", error.ParamName);
    }

    [Theory]
    [InlineData(MetricLossKind.Contrastive)]
    [InlineData(MetricLossKind.Triplet)]
    [InlineData(MetricLossKind.Center)]
    [InlineData(MetricLossKind.SphereFace)]
    [InlineData(MetricLossKind.CosFace)]
    [InlineData(MetricLossKind.ArcFace)]
    [InlineData(MetricLossKind.Softmax)]
    public void EveryLossTrainsFiniteEmbeddings(MetricLossKind loss)
    {
        var context = new MLContext(seed: 1);
        IDataView view = MetricTestData.View(context, MetricTestData.Clusters(12, 3, seed: 6));
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions(loss)).Fit(view);

        float[] embedded = MetricTestData.ReadVectors(model.Transform(view), "Embedding");

        Assert.Equal(36 * MetricTestData.EmbeddingDimension, embedded.Length);
        Assert.All(embedded, value => Assert.True(float.IsFinite(value), $"{loss} produced {value}"));
    }

    private static float[] Embed(MLContext context, IDataView view, string labelColumn)
    {
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", labelColumn, MetricTestData.FastOptions()).Fit(view);
        return MetricTestData.ReadVectors(model.Transform(view), "Embedding");
    }
}
