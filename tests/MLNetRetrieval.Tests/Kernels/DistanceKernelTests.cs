using Xunit;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Tests.Kernels;

public class DistanceKernelTests
{
    // Vector and scalar loops add in different orders; 1e-5 relative covers d = 1000 with Gaussian data.
    private const float RelativeTolerance = 1e-5f;

    public static IEnumerable<object[]> Widths() => KernelTestData.Widths();

    [Theory]
    [MemberData(nameof(Widths))]
    public void SquaredL2MatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(11);
        foreach (int d in KernelTestData.Dimensions)
        {
            float[] x = KernelTestData.Gaussian(random, d);
            float[] y = KernelTestData.Gaussian(random, d);
            float expected = DistanceKernels.SquaredL2Scalar(x, y);
            AssertClose(expected, DistanceKernels.SquaredL2(x, y, width), $"d = {d}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void InnerProductMatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(12);
        foreach (int d in KernelTestData.Dimensions)
        {
            float[] x = KernelTestData.Gaussian(random, d);
            float[] y = KernelTestData.Gaussian(random, d);
            float expected = DistanceKernels.InnerProductScalar(x, y);
            float scale = MathF.Sqrt(DistanceKernels.InnerProductScalar(x, x) * DistanceKernels.InnerProductScalar(y, y));
            Assert.True(MathF.Abs(expected - DistanceKernels.InnerProduct(x, y, width)) <= RelativeTolerance * scale, $"d = {d}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void CosineDistanceMatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(13);
        foreach (int d in KernelTestData.Dimensions)
        {
            float[] x = KernelTestData.Gaussian(random, d);
            float[] y = KernelTestData.Gaussian(random, d);
            float expected = DistanceKernels.CosineDistanceScalar(x, y);
            Assert.True(MathF.Abs(expected - DistanceKernels.CosineDistance(x, y, width)) <= RelativeTolerance, $"d = {d}");
        }
    }

    [Fact]
    public void TensorPrimitivesPathsMatchScalarTwins()
    {
        var random = new Random(14);
        foreach (int d in KernelTestData.Dimensions)
        {
            float[] x = KernelTestData.Gaussian(random, d);
            float[] y = KernelTestData.Gaussian(random, d);
            AssertClose(DistanceKernels.SquaredL2Scalar(x, y), DistanceKernels.SquaredL2(x, y), $"squared L2, d = {d}");
            float scale = MathF.Sqrt(DistanceKernels.InnerProductScalar(x, x) * DistanceKernels.InnerProductScalar(y, y));
            Assert.True(MathF.Abs(DistanceKernels.InnerProductScalar(x, y) - DistanceKernels.InnerProduct(x, y)) <= RelativeTolerance * scale, $"inner product, d = {d}");
            Assert.True(MathF.Abs(DistanceKernels.CosineDistanceScalar(x, y) - DistanceKernels.CosineDistance(x, y)) <= RelativeTolerance, $"cosine, d = {d}");
        }
    }

    [Fact]
    public void SquaredL2RejectsLengthMismatch()
    {
        var error = Assert.Throws<ArgumentException>(() => DistanceKernels.SquaredL2(new float[3], new float[4]));
        Assert.Contains("3 and 4", error.Message);
    }

    private static void AssertClose(float expected, float actual, string context)
    {
        Assert.True(MathF.Abs(expected - actual) <= RelativeTolerance * MathF.Max(1f, MathF.Abs(expected)), $"{context}: expected {expected}, got {actual}");
    }
}
