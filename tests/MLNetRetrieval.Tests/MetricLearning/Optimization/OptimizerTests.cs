using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Optimization;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning.Optimization;

public class OptimizerTests
{
    [Fact]
    public void SgdMomentumMatchesHandSteps()
    {
        var w = Parameter(1f);
        var sgd = new SgdOptimizer([w], momentum: 0.5f, nesterov: false, weightDecay: 0f, WeightDecayMode.L2, maxGradientNorm: 0f);
        w.Gradient[0] = 2f;
        sgd.Step(0.1f);          // v = 2, w = 1 − 0.2
        w.Gradient[0] = 1f;
        sgd.Step(0.1f);          // v = 0.5·2 + 1 = 2, w = 0.8 − 0.2
        Assert.Equal(0.6f, w.Values[0], 6);
    }

    [Fact]
    public void SgdNesterovMatchesHandSteps()
    {
        var w = Parameter(1f);
        var sgd = new SgdOptimizer([w], momentum: 0.5f, nesterov: true, weightDecay: 0f, WeightDecayMode.L2, maxGradientNorm: 0f);
        w.Gradient[0] = 2f;
        sgd.Step(0.1f);          // v = 2, w = 1 − 0.1·(2 + 1)
        w.Gradient[0] = 1f;
        sgd.Step(0.1f);          // v = 2, w = 0.7 − 0.1·(1 + 1)
        Assert.Equal(0.5f, w.Values[0], 6);
    }

    [Fact]
    public void AdamFirstStepIsLearningRate()
    {
        var w = Parameter(1f, -1f);
        var adam = new AdamOptimizer([w], 0.9f, 0.999f, 1e-8f, 0f, WeightDecayMode.L2, 0f);
        w.Gradient[0] = 3f;
        w.Gradient[1] = -0.01f;
        adam.Step(0.01f);

        // With bias correction m̂ = g and v̂ = g², so each weight moves by lr·sign(g).
        Assert.Equal(0.99f, w.Values[0], 5);
        Assert.Equal(-0.99f, w.Values[1], 5);
    }

    [Fact]
    public void L2DecayAddsToGradient()
    {
        var w = Parameter(2f);
        var sgd = new SgdOptimizer([w], momentum: 0f, nesterov: false, weightDecay: 0.1f, WeightDecayMode.L2, maxGradientNorm: 0f);
        w.Gradient[0] = 1f;
        sgd.Step(0.5f);          // w = 2 − 0.5·(1 + 0.2)
        Assert.Equal(1.4f, w.Values[0], 6);
    }

    [Fact]
    public void DecoupledDecayShrinksWeights()
    {
        var w = Parameter(2f);
        var adam = new AdamOptimizer([w], 0.9f, 0.999f, 1e-8f, 0.1f, WeightDecayMode.Decoupled, 0f);
        w.Gradient[0] = 1f;
        adam.Step(0.5f);         // w = 2·(1 − 0.05) − 0.5
        Assert.Equal(1.4f, w.Values[0], 5);
    }

    [Fact]
    public void DecaySkipsExemptParameters()
    {
        var bias = new TrainableParameter("bias", 1, 1, applyWeightDecay: false);
        bias.Values[0] = 2f;
        var sgd = new SgdOptimizer([bias], momentum: 0f, nesterov: false, weightDecay: 0.1f, WeightDecayMode.L2, maxGradientNorm: 0f);
        sgd.Step(0.5f);
        Assert.Equal(2f, bias.Values[0]);
    }

    [Fact]
    public void ClippingLimitsGlobalNorm()
    {
        var a = Parameter(0f);
        var b = Parameter(0f);
        var sgd = new SgdOptimizer([a, b], momentum: 0f, nesterov: false, weightDecay: 0f, WeightDecayMode.L2, maxGradientNorm: 1f);
        a.Gradient[0] = 3f;
        b.Gradient[0] = 4f;
        sgd.Step(1f);
        Assert.Equal(-0.6f, a.Values[0], 5);
        Assert.Equal(-0.8f, b.Values[0], 5);
    }

    [Fact]
    public void WarmupRisesLinearly()
    {
        var options = new MetricTrainerOptions { LearningRate = 0.4f, Epochs = 10, WarmupEpochs = 1, Schedule = LearningRateScheduleKind.Constant };
        var schedule = new LearningRateSchedule(options, stepsPerEpoch: 4);
        Assert.Equal(0.1f, schedule.At(0), 6);
        Assert.Equal(0.3f, schedule.At(2), 6);
        Assert.Equal(0.4f, schedule.At(4), 6);
        Assert.Equal(0.4f, schedule.At(39), 6);
    }

    [Fact]
    public void StepScheduleMultipliesByGamma()
    {
        var options = new MetricTrainerOptions { LearningRate = 1f, Epochs = 10, Schedule = LearningRateScheduleKind.Step, StepEpochs = 3, StepGamma = 0.5f };
        var schedule = new LearningRateSchedule(options, stepsPerEpoch: 2);
        Assert.Equal(1f, schedule.At(5), 6);
        Assert.Equal(0.5f, schedule.At(6), 6);
        Assert.Equal(0.125f, schedule.At(19), 6);
    }

    [Fact]
    public void CosineScheduleEndsAtMinimum()
    {
        var options = new MetricTrainerOptions { LearningRate = 1f, MinimumLearningRate = 0.1f, Epochs = 4, WarmupEpochs = 0, Schedule = LearningRateScheduleKind.Cosine };
        var schedule = new LearningRateSchedule(options, stepsPerEpoch: 10);
        Assert.Equal(1f, schedule.At(0), 6);
        Assert.Equal(0.55f, schedule.At(20), 5);
        Assert.Equal(0.1f, schedule.At(40), 6);
    }

    private static TrainableParameter Parameter(params float[] values)
    {
        var parameter = new TrainableParameter("w", values.Length, 1);
        values.CopyTo(parameter.Values, 0);
        return parameter;
    }
}
