using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Benchmarks;

/// <summary>
/// Scoring throughput through ML.NET (fitted transformer, model loaded from a zip, PredictionEngine)
/// against the direct index API, on the same base and queries, k = 10, one thread.
/// </summary>
internal static class PipelineThroughput
{
    private const int K = 10;

    public static void Run(float[] basePixels, int dimension, float[] queryPixels, int queryCount)
    {
        int baseCount = basePixels.Length / dimension;
        float[] queries = queryPixels.AsSpan(0, queryCount * dimension).ToArray();
        Console.WriteLine($"pipeline throughput: base {baseCount} x {dimension}, {queryCount} queries, k {K}, one thread");

        var context = new MLContext(seed: 1);
        IDataView collection = View(context, basePixels, dimension);
        var watch = Stopwatch.StartNew();
        NeighborSearchingTransformer model = context.Retrieval().IndexExact(new ExactIndexingEstimator.Options { NumberOfNeighbors = K, NumberOfThreads = 1 }).Fit(collection);
        Console.WriteLine($"fit {watch.Elapsed.TotalSeconds:F2} s");

        string zip = Path.Combine(Path.GetTempPath(), $"mlnr-pipeline-{Environment.ProcessId}.zip");
        watch.Restart();
        context.Model.Save(model, collection.Schema, zip);
        double saveSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        ITransformer loaded = new MLContext(seed: 1).Model.Load(zip, out _);
        Console.WriteLine($"save {saveSeconds:F2} s, load {watch.Elapsed.TotalSeconds:F2} s, zip {new FileInfo(zip).Length / 1e6:F1} MB");

        IDataView queryView = View(context, queries, dimension);
        var rows = new List<(string Path, double Qps)>();

        var index = new ExactIndex(dimension, DistanceMetric.SquaredEuclidean);
        index.Add(basePixels);
        var ids = new long[queryCount * K];
        var distances = new float[queryCount * K];
        index.Search(queries.AsSpan(0, Math.Min(64, queryCount) * dimension), K, ids.AsSpan(0, Math.Min(64, queryCount) * K), distances.AsSpan(0, Math.Min(64, queryCount) * K), new SearchParameters { Threads = 1 });
        rows.Add(("ExactIndex.Search, one batch call", Time(queryCount, () => index.Search(queries, K, ids, distances, new SearchParameters { Threads = 1 }))));
        rows.Add(("ExactIndex.Search, one query per call", Time(queryCount, () =>
        {
            for (int q = 0; q < queryCount; q++)
                index.Search(queries.AsSpan(q * dimension, dimension), K, ids.AsSpan(q * K, K), distances.AsSpan(q * K, K), new SearchParameters { Threads = 1 });
        })));
        rows.Add(("NeighborSearcher.Search (fitted model), one batch call", Time(queryCount, () => model.Searcher.Search(queries, default, ids, distances, threads: 1))));
        rows.Add(("fitted transformer, Transform + cursor", Time(queryCount, () => Drain(model.Transform(queryView)))));
        rows.Add(("model loaded from zip, Transform + cursor", Time(queryCount, () => Drain(loaded.Transform(queryView)))));

        var engine = context.Model.CreatePredictionEngine<QueryRow, Prediction>(loaded, inputSchemaDefinition: Definition(dimension));
        var inputs = Enumerable.Range(0, queryCount).Select(q => new QueryRow { Features = queries.AsSpan(q * dimension, dimension).ToArray() }).ToArray();
        rows.Add(("PredictionEngine on the loaded model", Time(queryCount, () =>
        {
            foreach (QueryRow input in inputs)
                engine.Predict(input);
        })));

        double batch = rows[0].Qps;
        double single = rows[1].Qps;
        Console.WriteLine();
        Console.WriteLine("| path | QPS | vs batch call | vs one query per call |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (path, qps) in rows)
            Console.WriteLine($"| {path} | {qps:F0} | {qps / batch:F2} | {qps / single:F2} |");
        File.Delete(zip);
    }

    private static double Time(int queryCount, Action action)
    {
        action();
        var watch = Stopwatch.StartNew();
        action();
        return queryCount / watch.Elapsed.TotalSeconds;
    }

    private static void Drain(IDataView scored)
    {
        using DataViewRowCursor cursor = scored.GetRowCursor(scored.Schema);
        var getIds = cursor.GetGetter<VBuffer<long>>(scored.Schema["NeighborIds"]);
        var getDistances = cursor.GetGetter<VBuffer<float>>(scored.Schema["Distances"]);
        VBuffer<long> ids = default;
        VBuffer<float> distances = default;
        while (cursor.MoveNext())
        {
            getIds(ref ids);
            getDistances(ref distances);
        }
    }

    private static IDataView View(MLContext context, float[] values, int dimension)
    {
        int count = values.Length / dimension;
        var rows = new QueryRow[count];
        for (int i = 0; i < count; i++)
            rows[i] = new QueryRow { Features = values.AsSpan(i * dimension, dimension).ToArray() };
        return context.Data.LoadFromEnumerable(rows, Definition(dimension));
    }

    private static SchemaDefinition Definition(int dimension)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(QueryRow));
        definition[nameof(QueryRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return definition;
    }

    private sealed class QueryRow
    {
        public float[] Features = [];
    }

    private sealed class Prediction
    {
        public long[] NeighborIds = [];

        public float[] Distances = [];
    }
}
