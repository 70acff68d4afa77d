using Xunit;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Tests.Kernels;

public class SquaredL2UncheckedTests
{
    [Fact]
    public void UncheckedEqualsSpanOverloadExactly()
    {
        // The HNSW graph is built with the unchecked entry point, so it must sum in the span overload's order.
        var random = new Random(21);
        foreach (int d in KernelTestData.Dimensions)
        {
            float[] x = KernelTestData.Gaussian(random, d);
            float[] y = KernelTestData.Gaussian(random, d);
            float expected = DistanceKernels.SquaredL2(x, y);
            float actual = DistanceKernels.SquaredL2Unchecked(in x[0], in y[0], d);
            Assert.True(expected == actual, $"d = {d}: span overload {expected}, unchecked {actual}");
        }
    }

    [Fact]
    public void UncheckedReadsOnlyGivenRange()
    {
        // The row sits inside a larger buffer, as rows do in the index, and floats outside it must not count.
        var random = new Random(22);
        const int d = 37;
        float[] buffer = KernelTestData.Gaussian(random, 3 * d);
        float[] query = KernelTestData.Gaussian(random, d);
        float expected = DistanceKernels.SquaredL2Scalar(query, buffer.AsSpan(d, d));
        float actual = DistanceKernels.SquaredL2Unchecked(in query[0], in buffer[d], d);
        Assert.True(MathF.Abs(expected - actual) <= 1e-5f * expected, $"scalar {expected}, unchecked {actual}");
    }
}
