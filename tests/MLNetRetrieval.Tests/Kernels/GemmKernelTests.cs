using Xunit;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Tests.Kernels;

public class GemmKernelTests
{
    /// <summary>(m, n, d): single elements, tails in rows, panels and vectors, and Fashion-MNIST's d = 784.</summary>
    private static readonly (int M, int N, int D)[] Shapes =
    {
        (1, 1, 1), (3, 5, 3), (13, 37, 17), (9, 70, 784), (17, 33, 1000), (8, 64, 16), (25, 129, 5),
    };

    public static IEnumerable<object[]> Widths() => KernelTestData.Widths();

    [Theory]
    [MemberData(nameof(Widths))]
    public void GemmMatchesScalarTwinExactly(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(21);
        foreach (var (m, n, d) in Shapes)
        {
            float[] a = KernelTestData.Gaussian(random, m * d);
            float[] b = KernelTestData.Gaussian(random, n * d);
            var expected = new float[m * n];
            var actual = new float[m * n];
            GemmKernel.MultiplyTransposedScalar(a, m, b, n, d, expected);
            GemmKernel.MultiplyTransposed(a, m, b, n, d, actual, width);

            // Each element is one FMA chain in k order at every width, so the bits match.
            AssertEqual(expected, actual, n, $"m = {m}, n = {n}, d = {d}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void GemmKBlockingKeepsBits(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(22);
        foreach (var (m, n, d) in Shapes)
        {
            float[] a = KernelTestData.Gaussian(random, m * d);
            float[] b = KernelTestData.Gaussian(random, n * d);
            var expected = new float[m * n];
            var actual = new float[m * n];
            GemmKernel.MultiplyTransposedScalar(a, m, b, n, d, expected);
            GemmKernel.MultiplyTransposed(a, m, b, n, d, actual, width, kcMax: 7);
            AssertEqual(expected, actual, n, $"kc = 7, m = {m}, n = {n}, d = {d}");
        }
    }

    [Fact]
    public void GemmScalarTwinMatchesDoubleSums()
    {
        var random = new Random(23);
        const int M = 5, N = 7, D = 33;
        float[] a = KernelTestData.Gaussian(random, M * D);
        float[] b = KernelTestData.Gaussian(random, N * D);
        var c = new float[M * N];
        GemmKernel.MultiplyTransposedScalar(a, M, b, N, D, c);
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int p = 0; p < D; p++)
                {
                    sum += (double)a[(i * D) + p] * b[(j * D) + p];
                }

                Assert.True(Math.Abs(sum - c[(i * N) + j]) <= 1e-4, $"C[{i}, {j}]: expected {sum}, got {c[(i * N) + j]}");
            }
        }
    }

    [Fact]
    public void GemmRejectsUnsupportedWidthsOrShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => GemmKernel.MultiplyTransposed(new float[6], 2, new float[6], 2, 3, new float[3], VectorWidth.Scalar));
        Assert.Contains("m*n = 4", error.Message);
    }

    private static void AssertEqual(float[] expected, float[] actual, int n, string context)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{context}: C[{i / n}, {i % n}] expected {expected[i]:R}, got {actual[i]:R}");
            }
        }
    }
}
