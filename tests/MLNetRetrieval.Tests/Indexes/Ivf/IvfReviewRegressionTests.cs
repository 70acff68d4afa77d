using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Tests.Indexes.Ivf;

/// <summary>Cases found by review.</summary>
public sealed class IvfReviewRegressionTests
{
    [Fact]
    public void IdenticalRowsGiveNoNegativeDistance()
    {
        const int d = 16;
        var random = new Random(3);
        float[] row = Enumerable.Range(0, d).Select(_ => (float)random.NextDouble()).ToArray();
        float[] data = Enumerable.Repeat(row, 300).SelectMany(r => r).ToArray();
        var index = new IvfPqIndex(d, numberOfLists: 4, numberOfSubquantizers: 4);
        index.Train(data);
        index.Add(data);
        var ids = new long[10];
        var distances = new float[10];

        index.Search(row, 10, ids, distances, new IvfSearchParameters { NumberOfProbes = 4 });

        Assert.All(distances, distance => Assert.True(distance >= 0f, $"distance {distance} is negative"));
    }
}
