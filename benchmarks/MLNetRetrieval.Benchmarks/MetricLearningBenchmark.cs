using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Benchmarks;

/// <summary>
/// Leave-one-out retrieval on the 10000 Fashion-MNIST test images for raw pixels, PCA and the
/// learned embeddings of model zips written by <c>mlnet-retrieval train-metric --fashion-mnist</c>.
/// Every test image is a query against the other 9999, ranked by exact squared Euclidean distance,
/// and scored by the project's <see cref="RankingEvaluator"/> with relevance from equal labels.
/// </summary>
internal static class MetricLearningBenchmark
{
    private const int PcaRank = 128;

    public static void Run(string dataFolder, string headFolder, int threads)
    {
        var (trainPixels, trainCount, dimension) = IdxImages.Read(Path.Combine(dataFolder, "train-images-idx3-ubyte.gz"));
        var (testPixels, testCount, _) = IdxImages.Read(Path.Combine(dataFolder, "t10k-images-idx3-ubyte.gz"));
        string[] testLabels = MLNetRetrieval.IO.VectorFile.ReadLabels(Path.Combine(dataFolder, "t10k-labels-idx1-ubyte.gz"));
        if (testLabels.Length != testCount)
            throw new InvalidDataException($"{dataFolder}: {testCount} test images but {testLabels.Length} test labels.");

        Console.WriteLine($"train {trainCount} x {dimension}, test {testCount}, leave-one-out, squared L2, full rankings, threads {threads}");
        Console.WriteLine("| representation | dimension | Recall@1 | Recall@10 | mAP | MAP@R |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");

        float[] testScaled = Scale(testPixels);
        Report("raw pixels (scaled to [0, 1])", testScaled, testCount, dimension, testLabels, threads);

        var ml = new MLContext(seed: 1);
        var clock = Stopwatch.StartNew();
        float[] pca = ProjectWithPca(ml, Scale(trainPixels), trainCount, testScaled, testCount, dimension);
        Report($"PCA to {PcaRank} (fit on the 60000 training images, {clock.Elapsed.TotalSeconds:F0} s)", pca, testCount, PcaRank, testLabels, threads);

        foreach (string zip in Directory.GetFiles(headFolder, "*.zip").Order(StringComparer.Ordinal))
        {
            ITransformer model = ml.Model.Load(zip, out _);
            (float[] embedded, int embeddedDimension) = Embed(ml, model, testPixels, testCount, dimension);
            Report(Path.GetFileNameWithoutExtension(zip), embedded, testCount, embeddedDimension, testLabels, threads);
        }
    }

    private static float[] Scale(float[] pixels)
    {
        var scaled = new float[pixels.Length];
        System.Numerics.Tensors.TensorPrimitives.Multiply(pixels, 1f / 255f, scaled);
        return scaled;
    }

    /// <summary>Fits ML.NET's randomized PCA on the training images and projects the test images (count × rank, row-major).</summary>
    private static float[] ProjectWithPca(MLContext ml, float[] train, int trainCount, float[] test, int testCount, int dimension)
    {
        ITransformer pca = ml.Transforms.ProjectToPrincipalComponents("Projected", "Features", rank: PcaRank, seed: 1)
            .Fit(View(ml, train, trainCount, dimension));
        return ReadColumn(pca.Transform(View(ml, test, testCount, dimension)), "Projected", testCount, PcaRank);
    }

    /// <summary>Maps the raw test pixels through a train-metric model zip, which applies its own input scale.</summary>
    private static (float[] Values, int Dimension) Embed(MLContext ml, ITransformer model, float[] pixels, int count, int dimension)
    {
        IDataView mapped = model.Transform(View(ml, pixels, count, dimension));
        using DataViewRowCursor cursor = mapped.GetRowCursor(new[] { mapped.Schema["Features"] });
        ValueGetter<VBuffer<float>> getter = cursor.GetGetter<VBuffer<float>>(mapped.Schema["Features"]);
        VBuffer<float> vector = default;
        float[]? values = null;
        int row = 0;
        while (cursor.MoveNext())
        {
            getter(ref vector);
            values ??= new float[checked(count * vector.Length)];
            vector.CopyTo(values, row * vector.Length);
            row++;
        }

        return (values!, values!.Length / count);
    }

    private static void Report(string name, float[] vectors, int count, int dimension, string[] labels, int threads)
    {
        var index = new ExactIndex(dimension, DistanceMetric.SquaredEuclidean);
        index.Add(vectors);
        long[] itemIds = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        var relevance = new LabelRelevance(itemIds, labels);
        var options = new MLNetRetrieval.Evaluation.RankingEvaluatorOptions { RecallCutoffs = [1, 10], PrecisionCutoffs = [] };
        RankingReport report = RankingEvaluator.Evaluate(RankAll(index, vectors, count, dimension, labels, relevance, threads), options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {dimension} | {report.MeanRecall[0].Mean:F4} | {report.MeanRecall[1].Mean:F4} | {report.MeanAveragePrecision:F4} | {report.MeanMapAtR:F4} |"));
    }

    /// <summary>
    /// Ranks the whole collection for every query, so mAP counts every relevant item (a ranking cut at
    /// R would make mAP equal MAP@R). Queries go in blocks to bound the id and distance buffers.
    /// </summary>
    private static IEnumerable<JudgedRanking> RankAll(ExactIndex index, float[] vectors, int count, int dimension, string[] labels,
        LabelRelevance relevance, int threads)
    {
        const int Block = 500;
        int k = count;
        var ids = new long[checked(Block * k)];
        var distances = new float[ids.Length];
        for (int start = 0; start < count; start += Block)
        {
            int queries = Math.Min(Block, count - start);
            index.Search(vectors.AsSpan(start * dimension, queries * dimension), k, ids.AsSpan(0, queries * k), distances.AsSpan(0, queries * k),
                new SearchParameters { Threads = threads });
            for (int q = 0; q < queries; q++)
            {
                // Leave-one-out: Judge drops the query's own id from its ranking and from its relevant count.
                var list = new RankedList(start + q, ids.AsMemory(q * k, k), distances.AsMemory(q * k, k));
                yield return relevance.Judge(list, labels[start + q], leaveOneOut: true);
            }
        }
    }

    private static IDataView View(MLContext ml, float[] values, int count, int dimension)
    {
        var rows = new Row[count];
        for (int i = 0; i < count; i++)
            rows[i] = new Row { Features = values.AsSpan(i * dimension, dimension).ToArray() };
        SchemaDefinition definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    private static float[] ReadColumn(IDataView view, string column, int count, int dimension)
    {
        var values = new float[checked(count * dimension)];
        int row = 0;
        foreach (float[] vector in view.GetColumn<float[]>(column))
            vector.CopyTo(values, row++ * dimension);
        return values;
    }

    private sealed class Row
    {
        public float[] Features = [];
    }
}
