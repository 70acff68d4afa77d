using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>Workout of the HNSW index estimator inside ML.NET pipelines, against the direct <see cref="HnswIndex"/> API.</summary>
public sealed class HnswIndexingTests
{
    private const int Dimension = 16;

    private static HnswIndexingEstimator.Options CreateOptions(int k = 5, DistanceMetric metric = DistanceMetric.SquaredEuclidean,
        int connectivity = 8, int efConstruction = 40, int efSearch = 16, bool excludeSelf = false) => new()
    {
        IdColumnName = "Id",
        LabelColumnName = "Label",
        NumberOfNeighbors = k,
        Metric = metric,
        Connectivity = connectivity,
        EfConstruction = efConstruction,
        EfSearch = efSearch,
        Seed = 7,
        ExcludeSelf = excludeSelf,
        NumberOfThreads = 1,
    };

    /// <summary>Builds the same graph as the estimator with <paramref name="options"/>, through the direct API.</summary>
    private static HnswIndex BuildDirect(ItemRow[] collection, HnswIndexingEstimator.Options options)
    {
        var index = new HnswIndex(Dimension, options.Metric, new HnswOptions
        {
            Connectivity = options.Connectivity,
            EfConstruction = options.EfConstruction,
            EfSearch = options.EfSearch,
            Seed = (ulong)options.Seed!.Value,
        });
        index.Add(CompressedTestData.Flatten(collection), collection.Select(r => r.Id).ToArray(), threads: 1);
        return index;
    }

    private static (long[] Ids, float[] Distances) SearchDirect(HnswIndex index, ItemRow[] queries, int k, int efSearch = 0)
    {
        var ids = new long[queries.Length * k];
        var distances = new float[ids.Length];
        index.Search(CompressedTestData.Flatten(queries), k, ids, distances, new HnswSearchParameters { Threads = 1, EfSearch = efSearch });
        return (ids, distances);
    }

    private static (long[] Ids, float[] Distances) SearchWith(NeighborSearcher searcher, ItemRow[] queries, NeighborSearchSettings? settings = null)
    {
        var ids = new long[queries.Length * searcher.NumberOfNeighbors];
        var distances = new float[ids.Length];
        searcher.Search(CompressedTestData.Flatten(queries), ReadOnlySpan<long>.Empty, ids, distances, settings, threads: 1);
        return (ids, distances);
    }

    [Theory]
    [InlineData(DistanceMetric.SquaredEuclidean)]
    [InlineData(DistanceMetric.InnerProduct)]
    [InlineData(DistanceMetric.Cosine)]
    public void TransformMatchesDirectIndex(DistanceMetric metric)
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(600, Dimension, seed: 31);
        ItemRow[] queries = CompressedTestData.ClusteredRows(30, Dimension, seed: 32);
        HnswIndexingEstimator.Options options = CreateOptions(metric: metric);
        NeighborSearchingTransformer model = context.Retrieval().IndexHnsw(options).Fit(TestData.View(context, collection, Dimension));

        IDataView scored = model.Transform(TestData.View(context, queries, Dimension));
        var (ids, distances) = SearchDirect(BuildDirect(collection, options), queries, options.NumberOfNeighbors);
        string[] labels = scored.GetColumn<string[]>("NeighborLabels").SelectMany(v => v).ToArray();

        Assert.Equal(ids, scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray());
        Assert.Equal(CompressedTestData.Bits(distances), CompressedTestData.Bits(scored.GetColumn<float[]>("Distances").SelectMany(v => v)));
        Assert.Equal(ids.Select(id => collection.Single(r => r.Id == id).Label), labels);
    }

    [Fact]
    public void SchemasAgreeWithTransform()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension, seed: 33), Dimension);
        HnswIndexingEstimator estimator = context.Retrieval().IndexHnsw(CreateOptions());

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(view.Schema));
        NeighborSearchingTransformer model = estimator.Fit(view);
        DataViewSchema fromData = model.Transform(view).Schema;

        Assert.Equal(new[] { "Features", "Id", "Label", "NeighborIds", "Distances", "NeighborLabels" }, shape.Select(c => c.Name));
        Assert.Equal(shape.Select(c => c.Name), fromData.Where(c => !c.IsHidden).Select(c => c.Name));
        Assert.Equal(CompressedTestData.Describe(fromData), CompressedTestData.Describe(model.GetOutputSchema(view.Schema)));
    }

    [Fact]
    public void ZipRoundTripBitIdentical()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(500, Dimension, seed: 34);
        IDataView view = TestData.View(context, collection, Dimension);
        NeighborSearchingTransformer model = context.Retrieval().IndexHnsw(CreateOptions(excludeSelf: true)).Fit(view);

        ITransformer loaded = CompressedTestData.SaveAndLoad(context, model, view.Schema, out _);
        IDataView expected = model.Transform(view);
        IDataView actual = loaded.Transform(view);

        Assert.Equal(expected.GetColumn<long[]>("NeighborIds").ToArray(), actual.GetColumn<long[]>("NeighborIds").ToArray());
        Assert.Equal(CompressedTestData.Bits(expected.GetColumn<float[]>("Distances").SelectMany(v => v)),
            CompressedTestData.Bits(actual.GetColumn<float[]>("Distances").SelectMany(v => v)));
        Assert.Equal(expected.GetColumn<string[]>("NeighborLabels").ToArray(), actual.GetColumn<string[]>("NeighborLabels").ToArray());
        Assert.Equal(CompressedTestData.Describe(expected.Schema), CompressedTestData.Describe(actual.Schema));
    }

    [Fact]
    public void ZipWithoutIdsKeepsRowNumbers()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(200, Dimension, seed: 35);
        IDataView view = TestData.View(context, collection, Dimension);
        var options = CreateOptions();
        options.IdColumnName = null;
        NeighborSearchingTransformer model = context.Retrieval().IndexHnsw(options).Fit(view);

        ITransformer loaded = CompressedTestData.SaveAndLoad(context, model, view.Schema, out _);
        NeighborSearcher searcher = new MLContext().Retrieval().GetSearchers(loaded)[0];

        Assert.Equal(199, searcher.GetId(199));
        Assert.Equal(collection[199].Label, searcher.GetLabel(199));
        Assert.Equal(model.Transform(view).GetColumn<long[]>("NeighborIds").ToArray(), loaded.Transform(view).GetColumn<long[]>("NeighborIds").ToArray());
    }

    [Fact]
    public void DamagedAdapterPrefixRejected()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(50, Dimension, seed: 44);
        NeighborSearcher searcher = context.Retrieval().IndexHnsw(CreateOptions()).Fit(TestData.View(context, collection, Dimension)).Searcher;
        var stream = new MemoryStream();
        searcher.State.Index.Save(stream);
        byte[] bytes = stream.ToArray();
        byte[] wrongMagic = (byte[])bytes.Clone();
        wrongMagic[0] = (byte)'X';

        HnswIndexAdapter reloaded = HnswIndexAdapter.Load(new MemoryStream(bytes));
        var magicError = Assert.Throws<InvalidDataException>(() => HnswIndexAdapter.Load(new MemoryStream(wrongMagic)));
        var shortError = Assert.Throws<InvalidDataException>(() => HnswIndexAdapter.Load(new MemoryStream(bytes[..5])));
        var countError = Assert.Throws<InvalidDataException>(() => HnswIndexAdapter.Load(new MemoryStream(bytes[..40])));

        Assert.Equal(collection.Select(r => r.Id), Enumerable.Range(0, 50).Select(reloaded.GetId));
        Assert.Contains("'HNAD'", magicError.Message);
        Assert.Contains("ends early", shortError.Message);
        Assert.Contains("id count 50", countError.Message);
    }

    [Fact]
    public void LoadedEfChangesTransform()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(1000, Dimension, seed: 36, clusters: 1);
        ItemRow[] queries = CompressedTestData.ClusteredRows(60, Dimension, seed: 37, clusters: 1);
        IDataView view = TestData.View(context, collection, Dimension);
        IDataView queryView = TestData.View(context, queries, Dimension);
        HnswIndexingEstimator.Options options = CreateOptions(k: 10, connectivity: 2, efConstruction: 4, efSearch: 1);
        ITransformer loaded = CompressedTestData.SaveAndLoad(context, context.Retrieval().IndexHnsw(options).Fit(view), view.Schema, out _);
        HnswIndex direct = BuildDirect(collection, options);

        long[] atStored = loaded.Transform(queryView).GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray();
        NeighborSearcher searcher = new MLContext(seed: 5).Retrieval().GetSearchers(loaded)[0];
        int storedEf = searcher.EfSearch;
        var (perCall, perCallDistances) = SearchWith(searcher, queries, new NeighborSearchSettings { EfSearch = 200 });
        searcher.EfSearch = 200;
        IDataView scored = loaded.Transform(queryView);
        long[] atWide = scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray();
        var (expected, expectedDistances) = SearchDirect(direct, queries, 10, efSearch: 200);

        Assert.Equal(1, storedEf);
        Assert.NotEqual(atStored, atWide);
        Assert.Equal(expected, atWide);
        Assert.Equal(CompressedTestData.Bits(expectedDistances), CompressedTestData.Bits(scored.GetColumn<float[]>("Distances").SelectMany(v => v)));
        Assert.Equal(expected, perCall);
        Assert.Equal(CompressedTestData.Bits(expectedDistances), CompressedTestData.Bits(perCallDistances));
    }

    [Fact]
    public void RecallNearExactSearch()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(2000, Dimension, seed: 38);
        ItemRow[] queries = CompressedTestData.ClusteredRows(100, Dimension, seed: 39);
        IDataView view = TestData.View(context, collection, Dimension);
        IDataView queryView = TestData.View(context, queries, Dimension);

        long[][] approximate = context.Retrieval().IndexHnsw(new HnswIndexingEstimator.Options { IdColumnName = "Id", NumberOfNeighbors = 10, Seed = 3 })
            .Fit(view).Transform(queryView).GetColumn<long[]>("NeighborIds").ToArray();
        long[][] exact = context.Retrieval().IndexExact(numberOfNeighbors: 10, idColumnName: "Id")
            .Fit(view).Transform(queryView).GetColumn<long[]>("NeighborIds").ToArray();
        int found = approximate.Zip(exact, (a, e) => a.Intersect(e).Count()).Sum();

        // Defaults M = 16, efSearch = 64 on 2000 clustered vectors; the build is multi-threaded, so the floor has slack.
        Assert.InRange(found / (double)(10 * queries.Length), 0.95, 1.0);
    }

    [Fact]
    public void EfRejectedWithoutGraph()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(100, Dimension, seed: 40);
        NeighborSearcher searcher = context.Retrieval().IndexExact().Fit(TestData.View(context, collection, Dimension)).Searcher;

        var setError = Assert.Throws<NotSupportedException>(() => searcher.EfSearch = 8);
        var callError = Assert.Throws<NotSupportedException>(() => SearchWith(searcher, collection[..2], new NeighborSearchSettings { EfSearch = 8 }));

        Assert.False(searcher.SupportsEfSearch);
        Assert.Contains("efSearch", setError.Message);
        Assert.Contains("efSearch", callError.Message);
    }

    [Fact]
    public void EfAndProbesRangesChecked()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(100, Dimension, seed: 41);
        NeighborSearcher searcher = context.Retrieval().IndexHnsw(CreateOptions()).Fit(TestData.View(context, collection, Dimension)).Searcher;

        Assert.True(searcher.SupportsEfSearch);
        Assert.Throws<ArgumentOutOfRangeException>(() => searcher.EfSearch = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => SearchWith(searcher, collection[..2], new NeighborSearchSettings { EfSearch = 0 }));
        Assert.Throws<NotSupportedException>(() => searcher.NumberOfProbes = 2);
    }

    [Theory]
    [InlineData(1, 200, 64, "Connectivity")]
    [InlineData(2000, 200, 64, "Connectivity")]
    [InlineData(16, 0, 64, "EfConstruction")]
    [InlineData(16, 200, 0, "EfSearch")]
    public void InvalidOptionsRejected(int connectivity, int efConstruction, int efSearch, string parameter)
    {
        var options = new HnswIndexingEstimator.Options { Connectivity = connectivity, EfConstruction = efConstruction, EfSearch = efSearch };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Retrieval().IndexHnsw(options));

        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void BitIdenticalInNewProcess()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(500, Dimension, seed: 42);
        ItemRow[] queries = CompressedTestData.ClusteredRows(30, Dimension, seed: 43);
        IDataView view = TestData.View(context, collection, Dimension);
        ITransformer model = context.Retrieval().IndexHnsw(CreateOptions(k: 8, metric: DistanceMetric.Cosine)).Fit(view);
        string folder = TestData.TempDirectory();
        string path = Path.Combine(folder, "model.zip");
        context.Model.Save(model, view.Schema, path);
        string queryFile = Path.Combine(folder, "queries.bin");
        using (var writer = new BinaryWriter(File.Create(queryFile)))
        {
            writer.Write(queries.Length);
            writer.Write(Dimension);
            foreach (float value in queries.SelectMany(q => q.Features))
                writer.Write(value);
        }

        IDataView scored = model.Transform(TestData.View(context, queries, Dimension));
        string resultFile = Path.Combine(folder, "result.bin");
        var (exitCode, output) = TestData.RunDotnet("MLNetRetrieval.LoadCheck.dll", path, queryFile, resultFile);

        Assert.True(exitCode == 0, output);
        var (ids, distances) = ReadLoadCheckResult(resultFile);
        Assert.Equal(scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray(), ids);
        Assert.Equal(CompressedTestData.Bits(scored.GetColumn<float[]>("Distances").SelectMany(v => v)), CompressedTestData.Bits(distances));
    }

    private static (long[] Ids, float[] Distances) ReadLoadCheckResult(string path)
    {
        var ids = new List<long>();
        var distances = new List<float>();
        using var reader = new BinaryReader(File.OpenRead(path));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            int k = reader.ReadInt32();
            for (int i = 0; i < k; i++)
                ids.Add(reader.ReadInt64());
            k = reader.ReadInt32();
            for (int i = 0; i < k; i++)
                distances.Add(reader.ReadSingle());
        }

        return (ids.ToArray(), distances.ToArray());
    }
}
