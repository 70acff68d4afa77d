using MLNetRetrieval.IO;

namespace MLNetRetrieval.Cli;

/// <summary>
/// Seeded clustered vectors for <c>bench --synthetic</c>, generated bit for bit like the FAISS peer's
/// scale run (benchmarks/peers/faiss_ivf_peer.cpp, the comment above <c>SplitMix64</c>).
/// </summary>
/// <remarks>
/// Three splitmix64 generators seeded 1234 (centres), 1235 (base) and 1236 (queries). 1000 centres are
/// uniform in [0, 1)^d and kept as double. Each point draws a centre with <c>next() % 1000</c>, then d/2
/// Box–Muller pairs in double, and every component is <c>(float)(centre[j] + 0.1 * z_j)</c>.
/// NOTE: Math.Log, Math.Sin and Math.Cos may differ from the C library in the last bit of a double. That
/// changes a float component only when the double sits on a float rounding boundary.
/// </remarks>
internal static class BenchSynthetic
{
    public const int QueryCount = 10000;
    private const int Centres = 1000;
    private const double Sigma = 0.1;

    /// <summary>Generates <paramref name="count"/> base vectors and <paramref name="queryCount"/> queries of an even <paramref name="dimension"/>.</summary>
    public static (VectorSet Base, VectorSet Queries) Generate(int count, int queryCount, int dimension)
    {
        if (dimension <= 0 || dimension % 2 != 0)
            throw new UsageException($"--dimension {dimension} must be a positive even number, because the generator draws normal values in pairs.");
        var centreRandom = new SplitMix64(1234);
        var centres = new double[checked(Centres * dimension)];
        for (int i = 0; i < centres.Length; i++)
            centres[i] = centreRandom.Uniform();

        float[] basePoints = Clustered(centres, count, dimension, 1235);
        float[] queryPoints = Clustered(centres, queryCount, dimension, 1236);
        return (new VectorSet(basePoints, count, dimension, source: "synthetic base"),
            new VectorSet(queryPoints, queryCount, dimension, source: "synthetic queries"));
    }

    private static float[] Clustered(double[] centres, int count, int dimension, ulong seed)
    {
        var random = new SplitMix64(seed);
        var points = new float[checked(count * dimension)];
        const double TwoPi = 6.283185307179586476925286766559;
        for (int i = 0; i < count; i++)
        {
            int centre = (int)(random.Next() % Centres);
            ReadOnlySpan<double> c = centres.AsSpan(centre * dimension, dimension);
            Span<float> point = points.AsSpan(i * dimension, dimension);
            for (int j = 0; j < dimension; j += 2)
            {
                double u1 = 1.0 - random.Uniform();
                double u2 = random.Uniform();
                double r = Math.Sqrt(-2.0 * Math.Log(u1));
                point[j] = (float)(c[j] + (Sigma * (r * Math.Cos(TwoPi * u2))));
                point[j + 1] = (float)(c[j + 1] + (Sigma * (r * Math.Sin(TwoPi * u2))));
            }
        }

        return points;
    }

    /// <summary>splitmix64 (Steele, Lea and Flood, 2014), all arithmetic modulo 2^64.</summary>
    internal struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public ulong Next()
        {
            unchecked
            {
                _state += 0x9E3779B97F4A7C15UL;
                ulong z = _state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }

        /// <summary>Returns a double in [0, 1) from the top 53 bits.</summary>
        public double Uniform() => (Next() >> 11) * (1.0 / 9007199254740992.0);
    }
}
