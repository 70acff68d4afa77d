using MLNetRetrieval.Indexes;
using Xunit;

namespace MLNetRetrieval.Tests.Indexes;

public class ExactIndexValidationTests
{
    [Fact]
    public void AddRejectsNaNWithPosition()
    {
        var index = new ExactIndex(3, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 0, 0, 0, 1, float.NaN, 1 }));
        Assert.Contains("Row 1, column 1 is NaN", error.Message);
    }

    [Fact]
    public void AddRejectsInfinity()
    {
        var index = new ExactIndex(2, DistanceMetric.InnerProduct);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { float.PositiveInfinity, 0 }));
        Assert.Contains("Row 0, column 0", error.Message);
    }

    [Fact]
    public void AddRejectsWrongLength()
    {
        var index = new ExactIndex(4, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[6]));
        Assert.Contains("dimension 4", error.Message);
        Assert.Contains("got 6", error.Message);
    }

    [Fact]
    public void AddRejectsZeroUnderCosine()
    {
        var index = new ExactIndex(2, DistanceMetric.Cosine);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 0, 0, 0 }));
        Assert.Contains("Row 1 is a zero vector", error.Message);
    }

    [Fact]
    public void AddRejectsDuplicateInBatch()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 2, 3 }, new long[] { 5, 6, 5 }));
        Assert.Contains("Id 5 appears at batch rows 0 and 2", error.Message);
    }

    [Fact]
    public void AddRejectsIdAlreadyStored()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2 }, new long[] { 8, 9 });
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 3 }, new long[] { 9 }));
        Assert.Contains("Id 9", error.Message);
        Assert.Contains("index row 2", error.Message);
        Assert.Contains("stored at index row 1", error.Message);
    }

    [Fact]
    public void SequentialAddRejectsTakenId()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1 }, new long[] { 1 });
        var error = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 2, 3 }));
        Assert.Contains("Id 1", error.Message);
    }

    [Fact]
    public void AddRejectsNegativeId()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => index.Add(new float[] { 1 }, new long[] { -4 }));
        Assert.Contains("-4", error.Message);
    }

    [Fact]
    public void FailedAddLeavesIndexUnchanged()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1 });
        Assert.Throws<ArgumentException>(() => index.Add(new float[] { 2, float.NaN }));
        Assert.Equal(1, index.Count);
        Assert.False(index.TryGetRow(1, out _));
    }

    [Fact]
    public void SearchRejectsQueryNaN()
    {
        var index = new ExactIndex(2, DistanceMetric.SquaredEuclidean);
        index.Add(new float[] { 1, 2 });
        var error = Assert.Throws<ArgumentException>(() => index.Search(new float[] { 1, 1, 0, float.NaN }, 1, new long[2], new float[2]));
        Assert.Contains("Row 1, column 1 is NaN", error.Message);
        Assert.Equal("queries", error.ParamName);
    }

    [Fact]
    public void SearchRejectsQueryDimension()
    {
        var index = new ExactIndex(3, DistanceMetric.SquaredEuclidean);
        var error = Assert.Throws<ArgumentException>(() => index.Search(new float[4], 1, new long[1], new float[1]));
        Assert.Contains("dimension 3", error.Message);
    }

    [Fact]
    public void SearchRejectsZeroCosineQuery()
    {
        var index = new ExactIndex(2, DistanceMetric.Cosine);
        index.Add(new float[] { 1, 1 });
        var error = Assert.Throws<ArgumentException>(() => index.Search(new float[] { 0, 0 }, 1, new long[1], new float[1]));
        Assert.Contains("Row 0 is a zero vector", error.Message);
    }

    [Fact]
    public void SearchRejectsBadShapes()
    {
        var index = new ExactIndex(1, DistanceMetric.SquaredEuclidean);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new float[1], 0, Array.Empty<long>(), Array.Empty<float>()));
        var buffers = Assert.Throws<ArgumentException>(() => index.Search(new float[2], 2, new long[3], new float[4]));
        Assert.Contains("2 × 2 = 4", buffers.Message);
        var excluded = Assert.Throws<ArgumentException>(() => index.Search(new float[2], 1, new long[2], new float[2], new SearchParameters { ExcludedIds = new long[] { 1 } }));
        Assert.Contains("ExcludedIds", excluded.Message);
    }

    [Fact]
    public void ConstructorRejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExactIndex(0, DistanceMetric.SquaredEuclidean));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExactIndex(2, (DistanceMetric)7));
    }
}
