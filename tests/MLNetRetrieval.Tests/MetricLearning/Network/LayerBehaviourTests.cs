using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Network;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning.Network;

public class LayerBehaviourTests
{
    [Fact]
    public void BatchNormRunningStatisticsFollowMomentum()
    {
        var layer = new BatchNormLayer(1, 0.25f, 1e-5f, "norm");
        float[] input = [1f, 2f, 3f, 6f];
        var output = new float[4];
        layer.Forward(input, output, 4, training: true, threads: 1);

        // Batch mean 3, unbiased variance (4 + 1 + 0 + 9) / 3 = 14/3.
        Assert.Equal(0.75f * 0f + (0.25f * 3f), layer.RunningMean[0], 6);
        Assert.Equal((0.75f * 1f) + (0.25f * 14f / 3f), layer.RunningVariance[0], 5);
    }

    [Fact]
    public void BatchNormTrainingOutputIsStandardized()
    {
        var random = new Random(111);
        var layer = new BatchNormLayer(3, 0.1f, 1e-5f, "norm");
        float[] input = GradientCheck.Gaussian(random, 50 * 3, scale: 4f);
        var output = new float[input.Length];
        layer.Forward(input, output, 50, training: true, threads: 1);
        for (int j = 0; j < 3; j++)
        {
            double mean = Enumerable.Range(0, 50).Average(r => output[(r * 3) + j]);
            double variance = Enumerable.Range(0, 50).Average(r => Math.Pow(output[(r * 3) + j] - mean, 2));
            Assert.True(Math.Abs(mean) < 1e-5, $"feature {j} mean {mean}");
            Assert.True(Math.Abs(variance - 1) < 1e-3, $"feature {j} variance {variance}");
        }
    }

    [Fact]
    public void BatchNormInferenceUsesRunningStatistics()
    {
        var layer = new BatchNormLayer(2, 0.1f, 1e-5f, "norm");
        layer.RunningMean[0] = 1f;
        layer.RunningMean[1] = -2f;
        layer.RunningVariance[0] = 4f;
        layer.RunningVariance[1] = 0.25f;
        layer.Scale.Values[1] = 3f;
        layer.Shift.Values[0] = 0.5f;
        var output = new float[2];
        layer.Forward([3f, -1f], output, 1, training: false, threads: 1);
        Assert.Equal(((3f - 1f) / MathF.Sqrt(4f + 1e-5f)) + 0.5f, output[0], 6);
        Assert.Equal(3f * (-1f + 2f) / MathF.Sqrt(0.25f + 1e-5f), output[1], 5);
    }

    [Fact]
    public void BatchNormRejectsSingleRowTraining()
    {
        var layer = new BatchNormLayer(2, 0.1f, 1e-5f, "norm");
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward([1f, 2f], new float[2], 1, training: true, threads: 1));
        Assert.Contains("at least 2 rows", error.Message);
    }

    [Fact]
    public void DropoutKeepsExpectedShareAndScale()
    {
        var layer = new DropoutLayer(1000, 0.25f, seed: 3);
        float[] input = Enumerable.Repeat(1f, 1000).ToArray();
        var output = new float[1000];
        layer.Forward(input, output, 1, training: true, threads: 1);
        int kept = output.Count(value => value != 0f);
        Assert.InRange(kept, 700, 800);
        Assert.All(output.Where(value => value != 0f), value => Assert.Equal(1f / 0.75f, value, 6));
    }

    [Fact]
    public void DropoutInferenceIsIdentity()
    {
        var layer = new DropoutLayer(4, 0.5f, seed: 3);
        var output = new float[4];
        layer.Forward([1f, 2f, 3f, 4f], output, 1, training: false, threads: 1);
        Assert.Equal([1f, 2f, 3f, 4f], output);
    }

    [Fact]
    public void L2NormalizeZeroRowStaysZero()
    {
        var layer = new L2NormalizeLayer(3);
        var output = new float[6];
        layer.Forward([0f, 0f, 0f, 3f, 0f, 4f], output, 2, training: true, threads: 1);
        Assert.Equal([0f, 0f, 0f, 0.6f, 0f, 0.8f], output);
        var gradient = new float[6];
        layer.Backward([0f, 0f, 0f, 3f, 0f, 4f], output, [1f, 1f, 1f, 0f, 0f, 0f], gradient, 2, threads: 1);
        Assert.All(gradient, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void LinearInitializationHasHeScale()
    {
        var layer = new LinearLayer(400, 300, WeightInitialization.He, new Random(7), "linear");
        double variance = layer.Weight.Values.Average(w => (double)w * w);
        Assert.Equal(2.0 / 400, variance, 3e-4);
        Assert.All(layer.Bias.Values, b => Assert.Equal(0f, b));
    }

    [Fact]
    public void MlpBuilderFollowsOptions()
    {
        var options = new MetricTrainerOptions { HiddenLayers = [8, 6], EmbeddingDimension = 4, BatchNormalization = true, DropoutRate = 0.1f };
        FeedForwardNetwork network = FeedForwardNetwork.Build(10, options, normalizeOutput: true, new Random(1));
        LayerKind[] expected =
        [
            LayerKind.Linear, LayerKind.BatchNorm, LayerKind.ReLU, LayerKind.Dropout,
            LayerKind.Linear, LayerKind.BatchNorm, LayerKind.ReLU, LayerKind.Dropout,
            LayerKind.Linear, LayerKind.L2Normalize,
        ];
        Assert.Equal(expected, network.Layers.Select(layer => layer.Kind));
        Assert.Equal(4, network.OutputDimension);
    }

    [Fact]
    public void LinearHeadHasOneLayer()
    {
        var options = new MetricTrainerOptions { HiddenLayers = [], EmbeddingDimension = 4 };
        FeedForwardNetwork network = FeedForwardNetwork.Build(10, options, normalizeOutput: false, new Random(1));
        Assert.Equal([LayerKind.Linear], network.Layers.Select(layer => layer.Kind));
    }
}
