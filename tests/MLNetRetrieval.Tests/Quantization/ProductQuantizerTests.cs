using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Tests.Quantization;

public class ProductQuantizerTests
{
    private const double RelativeTolerance = 1e-4;

    public static IEnumerable<object[]> Widths() => VectorWidths.Available().Select(width => new object[] { (int)width });

    /// <summary>
    /// Vectors whose every subvector is one of 256 distinct, well separated patterns per subspace, so a trained
    /// quantizer can represent them exactly. Every pattern appears at least once.
    /// </summary>
    internal static (float[] Data, byte[] Codes) ExactlyQuantizable(int count, int dimension, int m, int seed)
    {
        var random = new Random(seed);
        int dsub = dimension / m;
        var patterns = new float[m * 256 * dsub];
        for (int i = 0; i < patterns.Length; i++)
        {
            patterns[i] = random.Next(-50, 51) * 4;
        }

        var data = new float[count * dimension];
        var codes = new byte[count * m];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < m; j++)
            {
                int c = i < 256 ? (i + (j * 17)) % 256 : random.Next(256);
                codes[(i * m) + j] = (byte)c;
                patterns.AsSpan(((j * 256) + c) * dsub, dsub).CopyTo(data.AsSpan((i * dimension) + (j * dsub), dsub));
            }
        }

        return (data, codes);
    }

    [Fact]
    public void RoundTripIsExactOnQuantizableData()
    {
        const int N = 2000, D = 24, M = 4;
        var (data, _) = ExactlyQuantizable(N, D, M, seed: 11);
        var pq = new ProductQuantizer(D, M);
        pq.Train(data, N, new KMeansOptions { MaxIterations = 20 });
        var codes = new byte[N * pq.CodeSize];
        pq.Encode(data, N, codes);
        var decoded = new float[N * D];
        pq.Decode(codes, N, decoded);
        Assert.Equal(data, decoded);
    }

    [Fact]
    public void AdcEqualsDistanceToDecoded()
    {
        const int N = 1000, D = 32, M = 8;
        float[] data = QuantizationTestData.Clustered(N, D, 30, seed: 12);
        var pq = new ProductQuantizer(D, M);
        pq.Train(data, N, new KMeansOptions { MaxIterations = 5 });
        var codes = new byte[N * M];
        pq.Encode(data, N, codes);
        var decoded = new float[N * D];
        pq.Decode(codes, N, decoded);
        float[] query = QuantizationTestData.Clustered(1, D, 1, seed: 13);
        var table = new float[M * 256];
        pq.ComputeDistanceTable(query, table);
        var ipTable = new float[M * 256];
        pq.ComputeInnerProductTable(query, ipTable);
        for (int i = 0; i < N; i++)
        {
            ReadOnlySpan<float> y = decoded.AsSpan(i * D, D);
            double expected = QuantizationTestData.SquaredDistance(query, y);
            double actual = pq.ComputeAdcDistance(codes.AsSpan(i * M, M), table);
            Assert.True(Math.Abs(actual - expected) <= RelativeTolerance * Math.Max(1, expected), $"row {i}: ADC {actual}, exact {expected}");

            double dot = 0;
            for (int p = 0; p < D; p++)
            {
                dot += (double)query[p] * y[p];
            }

            double ip = pq.ComputeAdcDistance(codes.AsSpan(i * M, M), ipTable);
            Assert.True(Math.Abs(ip - dot) <= RelativeTolerance * Math.Max(1, Math.Abs(dot)), $"row {i}: inner product {ip}, exact {dot}");
        }
    }

    [Fact]
    public void SdcEqualsDistanceBetweenDecoded()
    {
        const int N = 600, D = 16, M = 4;
        float[] data = QuantizationTestData.Clustered(N, D, 20, seed: 14);
        var pq = new ProductQuantizer(D, M);
        pq.Train(data, N, new KMeansOptions { MaxIterations = 5 });
        var codes = new byte[N * M];
        pq.Encode(data, N, codes);
        var decoded = new float[N * D];
        pq.Decode(codes, N, decoded);
        for (int i = 0; i < 50; i++)
        {
            int j = (i * 7) + 3;
            double expected = QuantizationTestData.SquaredDistance(decoded.AsSpan(i * D, D), decoded.AsSpan(j * D, D));
            double actual = pq.ComputeSymmetricDistance(codes.AsSpan(i * M, M), codes.AsSpan(j * M, M));
            Assert.True(Math.Abs(actual - expected) <= RelativeTolerance * Math.Max(1, expected), $"pair {i}, {j}: SDC {actual}, exact {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void ScanMatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(15);
        foreach (int m in new[] { 1, 7, 8, 16, 20, 56 })
        {
            foreach (int count in new[] { 0, 1, 7, 8, 9, 100 })
            {
                var codes = new byte[count * m];
                random.NextBytes(codes);
                float[] table = Enumerable.Range(0, m * 256).Select(_ => (float)(random.NextDouble() * 100)).ToArray();
                var expected = new float[count];
                PqKernels.ScanCodesScalar(codes, count, m, table, expected);
                var actual = new float[count];
                PqKernels.ScanCodes(codes, count, m, table, actual, width);
                for (int i = 0; i < count; i++)
                {
                    Assert.Equal(expected[i], actual[i]);
                }
            }
        }
    }

    [Fact]
    public void ScanCodesMatchesAdcDistance()
    {
        const int N = 300, D = 32, M = 16;
        float[] data = QuantizationTestData.Clustered(N, D, 10, seed: 16);
        var pq = new ProductQuantizer(D, M);
        pq.Train(data, N, new KMeansOptions { MaxIterations = 3 });
        var codes = new byte[N * M];
        pq.Encode(data, N, codes);
        var table = new float[M * 256];
        pq.ComputeDistanceTable(data.AsSpan(0, D), table);
        var distances = new float[N];
        pq.ScanCodes(codes, N, table, distances);
        for (int i = 0; i < N; i++)
        {
            float expected = pq.ComputeAdcDistance(codes.AsSpan(i * M, M), table);
            Assert.True(Math.Abs(distances[i] - expected) <= RelativeTolerance * Math.Max(1, expected), $"code {i}: {distances[i]} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void InterleavedScanMatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(17);
        const int M = 12, Count = 33;
        int lanes = width switch { VectorWidth.Vector512 => 16, VectorWidth.Vector256 => 8, VectorWidth.Vector128 => 4, _ => 1 };
        var codes = new byte[Count * M];
        random.NextBytes(codes);
        float[] tables = Enumerable.Range(0, lanes * M * 256).Select(_ => (float)(random.NextDouble() * 10)).ToArray();
        var interleaved = new float[lanes * M * 256];
        PqKernels.Interleave(tables, lanes, M, lanes, interleaved);
        var tile = new float[Count * lanes];
        RunInterleaved(width, codes, Count, M, interleaved, tile);
        for (int q = 0; q < lanes; q++)
        {
            var expected = new float[Count];
            PqKernels.ScanCodesScalar(codes, Count, M, tables.AsSpan(q * M * 256, M * 256), expected);
            for (int i = 0; i < Count; i++)
            {
                Assert.Equal(expected[i], tile[(i * lanes) + q]);
            }
        }
    }

    [Fact]
    public void IndivisibleDimensionNamesDAndM()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProductQuantizer(30, 4));
        Assert.Contains("d = 30", error.Message);
        Assert.Contains("M = 4", error.Message);
    }

    [Fact]
    public void TooFewTrainingVectorsNamesCounts()
    {
        var pq = new ProductQuantizer(8, 2);
        var error = Assert.Throws<ArgumentException>(() => pq.Train(new float[100 * 8], 100));
        Assert.Contains("256", error.Message);
        Assert.Contains("got 100", error.Message);
    }

    [Fact]
    public void UntrainedEncodeIsRejected()
    {
        var pq = new ProductQuantizer(8, 2);
        Assert.Throws<InvalidOperationException>(() => pq.Encode(new float[8], 1, new byte[2]));
    }

    [Fact]
    public void UnsupportedBitsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProductQuantizer(8, 2, 4));
    }

    [Fact]
    public void SaveLoadKeepsCodebooks()
    {
        const int N = 400, D = 8, M = 2;
        float[] data = QuantizationTestData.Clustered(N, D, 10, seed: 18);
        var pq = new ProductQuantizer(D, M);
        pq.Train(data, N, new KMeansOptions { MaxIterations = 2 });
        var stream = new MemoryStream();
        pq.Save(stream);
        stream.Position = 0;
        ProductQuantizer loaded = ProductQuantizer.Load(stream);
        Assert.Equal(pq.Codebooks, loaded.Codebooks);
        Assert.True(loaded.IsTrained);
        var again = new MemoryStream();
        loaded.Save(again);
        Assert.Equal(stream.ToArray(), again.ToArray());
    }

    private static unsafe void RunInterleaved(VectorWidth width, byte[] codes, int count, int m, float[] interleaved, float[] tile)
    {
        fixed (byte* pCodes = codes)
        fixed (float* pTables = interleaved, pTile = tile)
        {
            switch (width)
            {
                case VectorWidth.Vector512:
                    PqKernels.ScanInterleaved<System.Runtime.Intrinsics.Vector512<float>, Vector512Ops>(pCodes, count, m, pTables, pTile);
                    break;
                case VectorWidth.Vector256:
                    PqKernels.ScanInterleaved<System.Runtime.Intrinsics.Vector256<float>, Vector256Ops>(pCodes, count, m, pTables, pTile);
                    break;
                case VectorWidth.Vector128:
                    PqKernels.ScanInterleaved<System.Runtime.Intrinsics.Vector128<float>, Vector128Ops>(pCodes, count, m, pTables, pTile);
                    break;
                default:
                    PqKernels.ScanInterleaved<float, ScalarOps>(pCodes, count, m, pTables, pTile);
                    break;
            }
        }
    }
}
