using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Tests.Kernels;

internal static class KernelTestData
{
    /// <summary>Vector lengths that cover a single element, tails shorter than every width and a long run.</summary>
    public static readonly int[] Dimensions = { 1, 3, 17, 784, 1000 };

    public static IEnumerable<object[]> Widths() => VectorWidths.Available().Select(width => new object[] { (int)width });

    public static float[] Gaussian(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    /// <summary>Small integers, so float sums are exact and equal distances (ties) are common.</summary>
    public static float[] SmallIntegers(Random random, int length, int maxAbs = 2)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = random.Next(-maxAbs, maxAbs + 1);
        }

        return values;
    }
}
