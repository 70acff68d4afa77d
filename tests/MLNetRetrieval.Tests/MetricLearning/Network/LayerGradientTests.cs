using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Network;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning.Network;

public class LayerGradientTests
{
    [Fact]
    public void LinearGradientsMatchDifferences()
    {
        var random = new Random(101);
        var layer = new LinearLayer(37, 19, WeightInitialization.He, random, "linear");
        GradientCheck.Gaussian(random, 19).CopyTo(layer.Bias.Values, 0);
        float[] input = GradientCheck.Gaussian(random, 11 * 37);
        GradientCheck.Check(layer, input, 11, random);
    }

    [Fact]
    public void ReLUGradientsMatchDifferences()
    {
        var random = new Random(102);
        float[] input = GradientCheck.Gaussian(random, 9 * 13);
        for (int i = 0; i < input.Length; i++)
        {
            // Keep every value at least 0.05 from the kink, so x ± step stays on one side.
            input[i] = input[i] >= 0 ? input[i] + 0.05f : input[i] - 0.05f;
        }

        GradientCheck.Check(new ReLULayer(13), input, 9, random, probes: 60);
    }

    [Fact]
    public void BatchNormGradientsMatchDifferences()
    {
        var random = new Random(103);
        var layer = new BatchNormLayer(7, 0.1f, 1e-5f, "norm");
        GradientCheck.Gaussian(random, 7).CopyTo(layer.Scale.Values, 0);
        GradientCheck.Gaussian(random, 7).CopyTo(layer.Shift.Values, 0);
        float[] input = GradientCheck.Gaussian(random, 12 * 7, scale: 2f);
        GradientCheck.Check(layer, input, 12, random, probes: 84);
    }

    [Fact]
    public void DropoutGradientsMatchDifferences()
    {
        var random = new Random(104);
        var layer = new DropoutLayer(10, 0.3f, seed: 5);
        float[] input = GradientCheck.Gaussian(random, 8 * 10);
        GradientCheck.Check(layer, input, 8, random, beforeForward: () => layer.Reseed(5), probes: 80);
    }

    [Fact]
    public void L2NormalizeGradientsMatchDifferences()
    {
        var random = new Random(105);
        float[] input = GradientCheck.Gaussian(random, 6 * 9, scale: 3f);
        GradientCheck.Check(new L2NormalizeLayer(9), input, 6, random, probes: 54);
    }

    [Fact]
    public void MlpGradientsMatchDifferences()
    {
        var random = new Random(106);
        var options = new MetricTrainerOptions { HiddenLayers = [16, 12], EmbeddingDimension = 5, BatchNormalization = true, DropoutRate = 0.2f };
        FeedForwardNetwork network = FeedForwardNetwork.Build(20, options, normalizeOutput: true, random);
        float[] input = GradientCheck.Gaussian(random, 10 * 20);
        float[] weights = GradientCheck.Gaussian(random, 10 * 5);
        var dropouts = network.Layers.OfType<DropoutLayer>().ToArray();
        void Replay()
        {
            for (int i = 0; i < dropouts.Length; i++)
            {
                dropouts[i].Reseed(40 + i);
            }
        }

        double Loss()
        {
            Replay();
            ReadOnlySpan<float> output = network.ForwardTraining(input, 10, threads: 1);
            double sum = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                sum += (double)weights[i] * output[i];
            }

            return sum;
        }

        // A smaller step than the single-layer checks: a shift moves every row, so 0.01 can cross a ReLU kink.
        const float Step = 1e-3f;
        foreach (TrainableParameter parameter in network.Parameters)
        {
            parameter.ClearGradient();
        }

        Loss();
        network.Backward(input, weights, 10, threads: 1);
        foreach (TrainableParameter parameter in network.Parameters)
        {
            float[] analytic = (float[])parameter.Gradient.Clone();
            for (int probe = 0; probe < 6; probe++)
            {
                int i = random.Next(parameter.Values.Length);
                float saved = parameter.Values[i];
                parameter.Values[i] = saved + Step;
                double plus = Loss();
                parameter.Values[i] = saved - Step;
                double minus = Loss();
                parameter.Values[i] = saved;
                double numeric = (plus - minus) / (2 * Step);
                double error = Math.Abs(analytic[i] - numeric);
                Assert.True(error <= GradientCheck.Absolute + (GradientCheck.Relative * Math.Abs(numeric)), $"d L / d {parameter.Name}[{i}]: analytic {analytic[i]}, finite difference {numeric}.");
            }
        }
    }
}
