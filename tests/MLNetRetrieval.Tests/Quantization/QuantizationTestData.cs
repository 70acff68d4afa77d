namespace MLNetRetrieval.Tests.Quantization;

internal static class QuantizationTestData
{
    /// <summary>Points scattered around <paramref name="clusters"/> random centers (spread 10, noise 0.5), row-major.</summary>
    public static float[] Clustered(int count, int dimension, int clusters, int seed)
    {
        var random = new Random(seed);
        var centers = new float[clusters * dimension];
        for (int i = 0; i < centers.Length; i++)
        {
            centers[i] = (float)(random.NextDouble() * 20 - 10);
        }

        var points = new float[count * dimension];
        for (int i = 0; i < count; i++)
        {
            int c = random.Next(clusters);
            for (int p = 0; p < dimension; p++)
            {
                points[(i * dimension) + p] = centers[(c * dimension) + p] + (float)(Gaussian(random) * 0.5);
            }
        }

        return points;
    }

    public static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Squared distances in double precision, the reference for ADC and SDC checks.</summary>
    public static double SquaredDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double diff = (double)x[i] - y[i];
            sum += diff * diff;
        }

        return sum;
    }
}
