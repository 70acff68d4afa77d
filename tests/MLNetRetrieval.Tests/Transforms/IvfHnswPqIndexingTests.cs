using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>The IVF-PQ estimator with <see cref="CoarseSearch.Hnsw"/> inside an ML.NET pipeline.</summary>
public sealed class IvfHnswPqIndexingTests
{
    private const int Dimension = 16;

    [Fact]
    public void ZipRoundTripBitIdentical()
    {
        var context = new MLContext(seed: 1);
        ItemRow[] collection = CompressedTestData.ClusteredRows(600, Dimension, seed: 18);
        IDataView view = TestData.View(context, collection, Dimension);
        NeighborSearchingTransformer model = context.Retrieval().IndexIvfPq(new IvfPqIndexingEstimator.Options
        {
            FeatureColumnName = "Features", IdColumnName = "Id", LabelColumnName = "Label", NumberOfNeighbors = 5,
            NumberOfLists = 64, NumberOfProbes = 4, NumberOfSubquantizers = 4, RerankCount = 20, ExcludeSelf = true,
            CoarseSearch = CoarseSearch.Hnsw, CoarseConnectivity = 8, CoarseEfSearch = 16,
        }).Fit(view);

        ITransformer loaded = CompressedTestData.SaveAndLoad(context, model, view.Schema, out _);
        IDataView expected = model.Transform(view);
        IDataView actual = loaded.Transform(view);

        Assert.Equal(expected.GetColumn<long[]>("NeighborIds").ToArray(), actual.GetColumn<long[]>("NeighborIds").ToArray());
        Assert.Equal(CompressedTestData.Bits(expected.GetColumn<float[]>("Distances").SelectMany(v => v)),
            CompressedTestData.Bits(actual.GetColumn<float[]>("Distances").SelectMany(v => v)));
    }

    [Fact]
    public void BadCoarseConnectivityRejected()
    {
        var options = new IvfPqIndexingEstimator.Options { CoarseSearch = CoarseSearch.Hnsw, CoarseConnectivity = 1 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(seed: 1).Retrieval().IndexIvfPq(options));
        Assert.Equal("CoarseConnectivity", error.ParamName);
    }
}
