using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.MetricLearning.Transforms;

/// <summary>One training row with its label as text and as an integer.</summary>
public sealed class LabeledRow
{
    public float[] Features = [];

    public long Id;

    public string Label = string.Empty;

    public int ClassNumber;
}

/// <summary>Small seeded clustered data and training settings that fit in a fraction of a second.</summary>
internal static class MetricTestData
{
    public const int Dimension = 12;
    public const int EmbeddingDimension = 4;

    /// <summary>
    /// Clusters of uniform noise (±0.75 per component) around one random centre per class, rows
    /// interleaved by class, so the classes first appear in the order c0, c1, ...
    /// </summary>
    public static LabeledRow[] Clusters(int rowsPerClass, int classCount, int seed)
    {
        var random = new Random(seed);
        var centres = new float[classCount][];
        for (int c = 0; c < classCount; c++)
            centres[c] = Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 4)).ToArray();

        var rows = new LabeledRow[rowsPerClass * classCount];
        for (int i = 0; i < rows.Length; i++)
        {
            int c = i % classCount;
            float[] values = centres[c].Select(v => v + (float)((random.NextDouble() - 0.5) * 1.5)).ToArray();
            rows[i] = new LabeledRow { Features = values, Id = i, Label = $"c{c}", ClassNumber = c };
        }

        return rows;
    }

    public static IDataView View(MLContext context, LabeledRow[] rows)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(LabeledRow));
        definition[nameof(LabeledRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        return context.Data.LoadFromEnumerable(rows, definition);
    }

    public static MetricLearningEstimator.Options FastOptions(MetricLossKind loss = MetricLossKind.CosFace) => new()
    {
        Loss = new MetricLossOptions { Kind = loss },
        Trainer = new MetricTrainerOptions
        {
            HiddenLayers = [8],
            EmbeddingDimension = EmbeddingDimension,
            Epochs = 2,
            BatchSize = 16,
            ValidationFraction = 0,
            Threads = 1,
            Seed = 5,
        },
    };

    /// <summary>Reads a vector column into one flat array, row after row.</summary>
    public static float[] ReadVectors(IDataView view, string column) =>
        view.GetColumn<float[]>(column).SelectMany(vector => vector).ToArray();

    public static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
