using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>Workouts of the PQ, IVF-Flat and IVF-PQ index estimators inside ML.NET pipelines.</summary>
public sealed class CompressedIndexingTests
{
    private const int Dimension = 16;
    private const int Lists = 16;

    public static TheoryData<string> Kinds => new() { "pq", "ivf-flat", "ivf-pq" };

    private static IEstimator<NeighborSearchingTransformer> Create(MLContext context, string kind, int k = 5, string feature = "Features", bool excludeSelf = false) => kind switch
    {
        "pq" => context.Retrieval().IndexPq(new PqIndexingEstimator.Options
        {
            FeatureColumnName = feature, IdColumnName = "Id", LabelColumnName = "Label", NumberOfNeighbors = k,
            NumberOfSubquantizers = 4, ExcludeSelf = excludeSelf,
        }),
        "ivf-flat" => context.Retrieval().IndexIvfFlat(new IvfFlatIndexingEstimator.Options
        {
            FeatureColumnName = feature, IdColumnName = "Id", LabelColumnName = "Label", NumberOfNeighbors = k,
            NumberOfLists = Lists, NumberOfProbes = 2, ExcludeSelf = excludeSelf,
        }),
        _ => context.Retrieval().IndexIvfPq(new IvfPqIndexingEstimator.Options
        {
            FeatureColumnName = feature, IdColumnName = "Id", LabelColumnName = "Label", NumberOfNeighbors = k,
            NumberOfLists = Lists, NumberOfProbes = 2, NumberOfSubquantizers = 4, RerankCount = 20, ExcludeSelf = excludeSelf,
        }),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TransformMatchesDirectSearch(string kind)
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(800, Dimension, seed: 11);
        ItemRow[] queries = CompressedTestData.ClusteredRows(30, Dimension, seed: 12);
        NeighborSearchingTransformer model = Create(context, kind).Fit(TestData.View(context, collection, Dimension));

        IDataView scored = model.Transform(TestData.View(context, queries, Dimension));
        var (ids, distances) = Search(model.Searcher, queries);
        string[][] labels = scored.GetColumn<string[]>("NeighborLabels").ToArray();

        Assert.Equal(ids, scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray());
        Assert.Equal(CompressedTestData.Bits(distances), CompressedTestData.Bits(scored.GetColumn<float[]>("Distances").SelectMany(v => v)));
        Assert.Equal(ids.Select(id => collection.Single(r => r.Id == id).Label), labels.SelectMany(v => v));
    }

    [Fact]
    public void IvfFlatAllProbesEqualsNaive()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(500, Dimension, seed: 13);
        ItemRow[] queries = CompressedTestData.ClusteredRows(20, Dimension, seed: 14);
        var options = new IvfFlatIndexingEstimator.Options { IdColumnName = "Id", NumberOfNeighbors = 6, NumberOfLists = Lists, NumberOfProbes = Lists };
        NeighborSearchingTransformer model = context.Retrieval().IndexIvfFlat(options).Fit(TestData.View(context, collection, Dimension));

        long[][] ids = model.Transform(TestData.View(context, queries, Dimension)).GetColumn<long[]>("NeighborIds").ToArray();

        for (int q = 0; q < queries.Length; q++)
            Assert.Equal(TestData.NaiveSquaredL2(collection, queries[q].Features, 6).Ids, ids[q]);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SchemasAgreeWithTransform(string kind)
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(400, Dimension, seed: 15), Dimension);
        IEstimator<NeighborSearchingTransformer> estimator = Create(context, kind);

        SchemaShape shape = estimator.GetOutputSchema(TestData.ShapeOf(view.Schema));
        NeighborSearchingTransformer model = estimator.Fit(view);
        DataViewSchema fromData = model.Transform(view).Schema;

        Assert.Equal(new[] { "Features", "Id", "Label", "NeighborIds", "Distances", "NeighborLabels" }, shape.Select(c => c.Name));
        Assert.Equal(shape.Select(c => c.Name), fromData.Where(c => !c.IsHidden).Select(c => c.Name));
        Assert.Equal(CompressedTestData.Describe(fromData), CompressedTestData.Describe(model.GetOutputSchema(view.Schema)));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void InvalidInputFailsEverywhere(string kind)
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(400, Dimension, seed: 16), Dimension);
        IEstimator<NeighborSearchingTransformer> missing = Create(context, kind, feature: "Pixels");
        NeighborSearchingTransformer fitted = Create(context, kind).Fit(view);
        IDataView wrongSize = TestData.View(context, CompressedTestData.ClusteredRows(5, Dimension + 4, seed: 17), Dimension + 4);

        var schemaError = Assert.Throws<ArgumentOutOfRangeException>(() => missing.GetOutputSchema(TestData.ShapeOf(view.Schema)));
        var fitError = Assert.Throws<ArgumentOutOfRangeException>(() => missing.Fit(view));
        var transformError = Assert.Throws<ArgumentOutOfRangeException>(() => fitted.Transform(wrongSize));

        Assert.Contains("'Pixels'", schemaError.Message);
        Assert.Contains("'Pixels'", fitError.Message);
        Assert.Contains("size 20", transformError.Message);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ZipRoundTripBitIdentical(string kind)
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(600, Dimension, seed: 18);
        IDataView view = TestData.View(context, collection, Dimension);
        NeighborSearchingTransformer model = Create(context, kind, excludeSelf: true).Fit(view);

        ITransformer loaded = CompressedTestData.SaveAndLoad(context, model, view.Schema, out _);
        IDataView expected = model.Transform(view);
        IDataView actual = loaded.Transform(view);

        Assert.Equal(expected.GetColumn<long[]>("NeighborIds").ToArray(), actual.GetColumn<long[]>("NeighborIds").ToArray());
        Assert.Equal(CompressedTestData.Bits(expected.GetColumn<float[]>("Distances").SelectMany(v => v)),
            CompressedTestData.Bits(actual.GetColumn<float[]>("Distances").SelectMany(v => v)));
        Assert.Equal(expected.GetColumn<string[]>("NeighborLabels").ToArray(), actual.GetColumn<string[]>("NeighborLabels").ToArray());
        Assert.Equal(CompressedTestData.Describe(expected.Schema), CompressedTestData.Describe(actual.Schema));
    }

    [Theory]
    [InlineData("ivf-flat")]
    [InlineData("ivf-pq")]
    public void LoadedProbesChangeTransform(string kind)
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(800, Dimension, seed: 19, clusters: 1);
        ItemRow[] queries = CompressedTestData.ClusteredRows(40, Dimension, seed: 20, clusters: 1);
        IDataView view = TestData.View(context, collection, Dimension);
        IDataView queryView = TestData.View(context, queries, Dimension);
        ITransformer loaded = CompressedTestData.SaveAndLoad(context, Create(context, kind, k: 10).Fit(view), view.Schema, out _);
        var loadContext = new MLContext(seed: 5);

        long[] atTwo = loaded.Transform(queryView).GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray();
        NeighborSearcher searcher = loadContext.Retrieval().GetSearchers(loaded)[0];
        var (directAtTwelve, distancesAtTwelve) = Search(searcher, queries, new NeighborSearchSettings { NumberOfProbes = 12 });
        searcher.NumberOfProbes = 12;
        IDataView scored = loaded.Transform(queryView);
        long[] atTwelve = scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray();

        Assert.Equal(2, new MLContext().Retrieval().GetSearchers(CompressedTestData.SaveAndLoad(context, Create(context, kind, k: 10).Fit(view), view.Schema, out _))[0].NumberOfProbes);
        Assert.NotEqual(atTwo, atTwelve);
        Assert.Equal(directAtTwelve, atTwelve);
        Assert.Equal(CompressedTestData.Bits(distancesAtTwelve), CompressedTestData.Bits(scored.GetColumn<float[]>("Distances").SelectMany(v => v)));
    }

    [Theory]
    [InlineData("exact")]
    [InlineData("pq")]
    public void ProbesRejectedWithoutLists(string kind)
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(300, Dimension, seed: 21);
        IDataView view = TestData.View(context, collection, Dimension);
        NeighborSearcher searcher = kind == "exact"
            ? context.Retrieval().IndexExact().Fit(view).Searcher
            : Create(context, kind).Fit(view).Searcher;

        var setError = Assert.Throws<NotSupportedException>(() => searcher.NumberOfProbes = 4);
        var callError = Assert.Throws<NotSupportedException>(() => Search(searcher, collection[..2], new NeighborSearchSettings { NumberOfProbes = 4 }));

        Assert.False(searcher.SupportsProbes);
        Assert.Contains("nprobe", setError.Message);
        Assert.Contains("nprobe", callError.Message);
    }

    [Fact]
    public void ProbesOutsideListsAreRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(300, Dimension, seed: 22), Dimension);
        NeighborSearcher searcher = Create(context, "ivf-flat").Fit(view).Searcher;

        Assert.Throws<ArgumentOutOfRangeException>(() => searcher.NumberOfProbes = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => searcher.NumberOfProbes = Lists + 1);
    }

    [Fact]
    public void TooFewRowsForListsIsRejected()
    {
        var context = new MLContext(seed: 1);
        IDataView view = TestData.View(context, CompressedTestData.ClusteredRows(100, Dimension, seed: 23), Dimension);
        var options = new IvfFlatIndexingEstimator.Options { NumberOfLists = 128, NumberOfProbes = 4 };

        var error = Assert.Throws<InvalidOperationException>(() => context.Retrieval().IndexIvfFlat(options).Fit(view));

        Assert.Contains("NumberOfLists (128)", error.Message);
    }

    [Fact]
    public void RerankBelowKIsRejected()
    {
        var context = new MLContext(seed: 1);
        var options = new IvfPqIndexingEstimator.Options { NumberOfNeighbors = 10, RerankCount = 5 };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => context.Retrieval().IndexIvfPq(options));

        Assert.Equal("RerankCount", error.ParamName);
    }

    [Fact]
    public void IvfPqBitIdenticalInNewProcess()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(700, Dimension, seed: 24);
        ItemRow[] queries = CompressedTestData.ClusteredRows(30, Dimension, seed: 25);
        IDataView view = TestData.View(context, collection, Dimension);
        ITransformer model = context.Transforms.NormalizeLpNorm("Features").Append(Create(context, "ivf-pq", k: 8)).Fit(view);
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

    private static (long[] Ids, float[] Distances) Search(NeighborSearcher searcher, ItemRow[] queries, NeighborSearchSettings? settings = null)
    {
        var ids = new long[queries.Length * searcher.NumberOfNeighbors];
        var distances = new float[ids.Length];
        searcher.Search(CompressedTestData.Flatten(queries), ReadOnlySpan<long>.Empty, ids, distances, settings, threads: 1);
        return (ids, distances);
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
