namespace MLNetRetrieval.MetricLearning.Optimization;

/// <summary>Learning rate at each optimizer step, from <see cref="MetricTrainerOptions"/>.</summary>
/// <remarks>
/// With base rate η, warm-up W steps, T steps in all and t counted from 0: during warm-up
/// lr(t) = η·(t + 1)/W. After it, <see cref="LearningRateScheduleKind.Constant"/> keeps η,
/// <see cref="LearningRateScheduleKind.Step"/> gives η·γ^⌊epoch / N⌋, and
/// <see cref="LearningRateScheduleKind.Cosine"/> gives η_min + (η − η_min)·(1 + cos(π·(t − W)/(T − W)))/2
/// (Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, without restarts).
/// </remarks>
internal sealed class LearningRateSchedule
{
    private readonly MetricTrainerOptions _options;
    private readonly long _stepsPerEpoch;
    private readonly long _totalSteps;
    private readonly long _warmupSteps;

    public LearningRateSchedule(MetricTrainerOptions options, long stepsPerEpoch)
    {
        _options = options;
        _stepsPerEpoch = Math.Max(1, stepsPerEpoch);
        _totalSteps = _stepsPerEpoch * options.Epochs;
        _warmupSteps = Math.Min(_totalSteps, (long)Math.Round(options.WarmupEpochs * _stepsPerEpoch));
    }

    /// <summary>Returns the learning rate of step <paramref name="step"/>, counted from 0.</summary>
    public float At(long step)
    {
        double baseRate = _options.LearningRate;
        if (step < _warmupSteps)
        {
            return (float)(baseRate * (step + 1) / _warmupSteps);
        }

        switch (_options.Schedule)
        {
            case LearningRateScheduleKind.Step:
                long epoch = step / _stepsPerEpoch;
                return (float)(baseRate * Math.Pow(_options.StepGamma, epoch / _options.StepEpochs));
            case LearningRateScheduleKind.Cosine:
                double span = Math.Max(1, _totalSteps - _warmupSteps);
                double progress = Math.Min(1.0, (step - _warmupSteps) / span);
                double minimum = _options.MinimumLearningRate;
                return (float)(minimum + ((baseRate - minimum) * 0.5 * (1 + Math.Cos(Math.PI * progress))));
            default:
                return (float)baseRate;
        }
    }
}
