using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Network;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning.Network;

/// <summary>
/// Compares a layer's analytic gradients with central finite differences of L = Σ r·y, where r is a fixed
/// random weight per output value, so d L / d y = r.
/// </summary>
internal static class GradientCheck
{
    /// <summary>Step of the central difference; the layers compute in float, so smaller steps drown in rounding.</summary>
    public const float Step = 1e-2f;

    /// <summary>Allowed |analytic − numeric| is Absolute + Relative · |numeric|.</summary>
    public const double Absolute = 2e-3;

    public const double Relative = 2e-2;

    /// <summary>Checks d L / d input and d L / d every parameter, probing at most <paramref name="probes"/> entries of each.</summary>
    /// <param name="beforeForward">Runs before every forward pass, for example to replay a dropout mask.</param>
    public static void Check(Layer layer, float[] input, int rows, Random random, Action? beforeForward = null, int probes = 40)
    {
        var network = new FeedForwardNetwork([layer]);
        float[] weights = Gaussian(random, rows * layer.OutputDimension);

        foreach (TrainableParameter parameter in layer.Parameters)
        {
            parameter.ClearGradient();
        }

        var inputGradient = new float[input.Length];
        layer.Backward(input, OutputOf(network, input, rows, beforeForward), weights, inputGradient, rows, threads: 2);
        CompareEntries("input", input, inputGradient, () => Loss(network, input, rows, weights, beforeForward), random, probes);
        foreach (TrainableParameter parameter in layer.Parameters)
        {
            float[] analytic = (float[])parameter.Gradient.Clone();
            CompareEntries(parameter.Name, parameter.Values, analytic, () => Loss(network, input, rows, weights, beforeForward), random, probes);
        }
    }

    public static float[] Gaussian(Random random, int length, float scale = 1f)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = scale * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    private static float[] OutputOf(FeedForwardNetwork network, float[] input, int rows, Action? beforeForward)
    {
        beforeForward?.Invoke();
        return network.ForwardTraining(input, rows, threads: 2).ToArray();
    }

    private static double Loss(FeedForwardNetwork network, float[] input, int rows, float[] weights, Action? beforeForward)
    {
        beforeForward?.Invoke();
        ReadOnlySpan<float> output = network.ForwardTraining(input, rows, threads: 2);
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            sum += (double)weights[i] * output[i];
        }

        return sum;
    }

    private static void CompareEntries(string name, float[] values, float[] analytic, Func<double> loss, Random random, int probes)
    {
        int count = Math.Min(probes, values.Length);
        for (int probe = 0; probe < count; probe++)
        {
            int i = values.Length <= probes ? probe : random.Next(values.Length);
            float saved = values[i];
            values[i] = saved + Step;
            double plus = loss();
            values[i] = saved - Step;
            double minus = loss();
            values[i] = saved;
            double numeric = (plus - minus) / (2 * Step);
            double error = Math.Abs(analytic[i] - numeric);
            Assert.True(error <= Absolute + (Relative * Math.Abs(numeric)), $"d L / d {name}[{i}]: analytic {analytic[i]}, finite difference {numeric}.");
        }
    }
}
