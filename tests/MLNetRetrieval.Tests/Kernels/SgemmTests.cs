using MLNetRetrieval.Kernels;
using Xunit;

namespace MLNetRetrieval.Tests.Kernels;

public class SgemmTests
{
    /// <summary>(m, n, k): single elements, tails in rows, panels and tasks, and the 784 → 512 → 128 MLP shapes.</summary>
    private static readonly (int M, int N, int K)[] Shapes =
    {
        (1, 1, 1), (3, 5, 3), (13, 37, 17), (70, 9, 784), (65, 129, 5), (256, 128, 512), (130, 200, 64),
    };

    public static IEnumerable<object[]> Widths() => KernelTestData.Widths();

    [Theory]
    [MemberData(nameof(Widths))]
    public void SgemmMatchesScalarTwinExactly(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(31);
        foreach (var (m, n, k) in Shapes)
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    float[] a = KernelTestData.Gaussian(random, m * k);
                    float[] b = KernelTestData.Gaussian(random, k * n);
                    var expected = new float[m * n];
                    var actual = new float[m * n];
                    Sgemm.MultiplyScalar(transposeA, transposeB, m, n, k, a, b, expected, accumulate: false);
                    Sgemm.Multiply(transposeA, transposeB, m, n, k, a, b, actual, accumulate: false, threads: 2, width);
                    AssertEqual(expected, actual, $"m = {m}, n = {n}, k = {k}, transposeA = {transposeA}, transposeB = {transposeB}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SgemmAccumulatesWithKBlocks(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(32);
        foreach (var (m, n, k) in Shapes)
        {
            float[] a = KernelTestData.Gaussian(random, m * k);
            float[] b = KernelTestData.Gaussian(random, k * n);
            float[] start = KernelTestData.Gaussian(random, m * n);
            float[] expected = (float[])start.Clone();
            float[] actual = (float[])start.Clone();
            Sgemm.MultiplyScalar(true, false, m, n, k, a, b, expected, accumulate: true);
            Sgemm.Multiply(true, false, m, n, k, a, b, actual, accumulate: true, threads: 2, width, kcMax: 7);
            AssertEqual(expected, actual, $"kc = 7, m = {m}, n = {n}, k = {k}");
        }
    }

    [Fact]
    public void SgemmScalarTwinMatchesDoubleSums()
    {
        var random = new Random(33);
        const int M = 6, N = 5, K = 41;
        float[] a = KernelTestData.Gaussian(random, K * M);
        float[] b = KernelTestData.Gaussian(random, N * K);
        var c = new float[M * N];
        Sgemm.MultiplyScalar(true, true, M, N, K, a, b, c, accumulate: false);
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int p = 0; p < K; p++)
                {
                    sum += (double)a[(p * M) + i] * b[(j * K) + p];
                }

                Assert.True(Math.Abs(sum - c[(i * N) + j]) < 1e-4, $"C[{i}, {j}] = {c[(i * N) + j]}, double sum {sum}");
            }
        }
    }

    [Fact]
    public void SgemmSameBitsAcrossThreadCounts()
    {
        var random = new Random(34);
        const int M = 200, N = 300, K = 70;
        float[] a = KernelTestData.Gaussian(random, M * K);
        float[] b = KernelTestData.Gaussian(random, K * N);
        var one = new float[M * N];
        var two = new float[M * N];
        Sgemm.Multiply(false, false, M, N, K, a, b, one, false, threads: 1, VectorWidths.Best);
        Sgemm.Multiply(false, false, M, N, K, a, b, two, false, threads: 2, VectorWidths.Best);
        AssertEqual(one, two, "threads 1 against 2");
    }

    [Fact]
    public void SgemmRejectsWrongBufferLength()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 2, 3, 4, new float[8], new float[12], new float[5], false, 1, VectorWidth.Scalar));
        Assert.Contains("m*n = 6", error.Message);
    }

    private static void AssertEqual(float[] expected, float[] actual, string shape)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{shape}: element {i} is {actual[i]}, scalar twin {expected[i]}.");
            }
        }
    }
}
