using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>Seeded clustered vectors for the PQ and IVF estimator tests.</summary>
internal static class CompressedTestData
{
    /// <summary>
    /// Rows drawn around <paramref name="clusters"/> Gaussian centers (spread 4, noise 1), ids 10 + 2i
    /// and labels naming the center, so neighbors share labels and IVF lists have structure.
    /// </summary>
    public static ItemRow[] ClusteredRows(int count, int dimension, int seed, int clusters = 12)
    {
        var random = new Random(seed);
        var centers = new float[clusters][];
        var centerRandom = new Random(4242);
        for (int c = 0; c < clusters; c++)
            centers[c] = Enumerable.Range(0, dimension).Select(_ => 4 * Gaussian(centerRandom)).ToArray();

        var rows = new ItemRow[count];
        for (int i = 0; i < count; i++)
        {
            int c = random.Next(clusters);
            float[] values = centers[c].Select(v => v + Gaussian(random)).ToArray();
            rows[i] = new ItemRow { Features = values, Id = 10 + (2 * i), Label = $"c{c}" };
        }

        return rows;
    }

    public static float[] Flatten(ItemRow[] rows) => rows.SelectMany(r => r.Features).ToArray();

    public static int[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Saves <paramref name="model"/> with ML.NET and loads it in a fresh context.</summary>
    public static ITransformer SaveAndLoad(MLContext context, ITransformer model, DataViewSchema schema, out string path)
    {
        path = Path.Combine(TestData.TempDirectory(), "model.zip");
        context.Model.Save(model, schema, path);
        return new MLContext(seed: 99).Model.Load(path, out _);
    }

    /// <summary>The names and types of the visible columns, for comparing schemas.</summary>
    public static (string Name, string Type)[] Describe(DataViewSchema schema) =>
        schema.Where(c => !c.IsHidden).Select(c => (c.Name, c.Type.ToString() ?? string.Empty)).ToArray();

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
