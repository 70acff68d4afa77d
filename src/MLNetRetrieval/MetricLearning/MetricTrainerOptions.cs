namespace MLNetRetrieval.MetricLearning;

/// <summary>Optimizer used by <see cref="MetricTrainer"/>.</summary>
public enum OptimizerKind : byte
{
    /// <summary>Stochastic gradient descent with momentum, optionally Nesterov.</summary>
    Sgd = 1,

    /// <summary>Adam with bias correction.</summary>
    Adam = 2,
}

/// <summary>How weight decay λ enters the update.</summary>
public enum WeightDecayMode : byte
{
    /// <summary>Adds λ·w to the gradient, the L2 penalty λ/2·‖w‖² (PyTorch SGD and Adam).</summary>
    L2 = 1,

    /// <summary>Shrinks w by lr·λ·w apart from the gradient step (PyTorch AdamW).</summary>
    Decoupled = 2,
}

/// <summary>Learning-rate schedule after the linear warm-up.</summary>
public enum LearningRateScheduleKind : byte
{
    /// <summary>The base rate throughout.</summary>
    Constant = 1,

    /// <summary>The base rate times <see cref="MetricTrainerOptions.StepGamma"/> every <see cref="MetricTrainerOptions.StepEpochs"/> epochs.</summary>
    Step = 2,

    /// <summary>Cosine decay from the base rate to <see cref="MetricTrainerOptions.MinimumLearningRate"/> at the last step.</summary>
    Cosine = 3,
}

/// <summary>Settings of <see cref="MetricTrainer"/>; the helper building the trainer fills this in.</summary>
public sealed class MetricTrainerOptions
{
    /// <summary>Hidden layer sizes of the MLP; empty for a single linear layer.</summary>
    public IReadOnlyList<int> HiddenLayers { get; set; } = [512];

    /// <summary>Output embedding dimension.</summary>
    public int EmbeddingDimension { get; set; } = 128;

    /// <summary>Number of passes over the training rows.</summary>
    public int Epochs { get; set; } = 20;

    /// <summary>Rows per batch. With class-balanced batches this is P·K, rounded down to a multiple of <see cref="SamplesPerClass"/>.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Seed of every random choice; the same seed and thread count give the same head.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Whether each hidden layer has batch normalisation between its linear map and its ReLU.</summary>
    public bool BatchNormalization { get; set; }

    /// <summary>Weight of the newest batch in batch-norm running statistics, in [0, 1] (PyTorch's default 0.1).</summary>
    public float BatchNormMomentum { get; set; } = 0.1f;

    /// <summary>ε added to the batch variance, positive.</summary>
    public float BatchNormEpsilon { get; set; } = 1e-5f;

    /// <summary>Probability of dropping a hidden activation during training, in [0, 1); 0 adds no dropout layer.</summary>
    public float DropoutRate { get; set; }

    /// <summary>
    /// Whether the head ends with L2 normalisation even when the loss does not require it; it always does
    /// when <see cref="MetricLoss.RequiresNormalizedEmbeddings"/> is true.
    /// </summary>
    public bool NormalizeOutput { get; set; }

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Sgd;

    /// <summary>Base learning rate, positive.</summary>
    public float LearningRate { get; set; } = 0.05f;

    /// <summary>SGD momentum μ in [0, 1).</summary>
    public float Momentum { get; set; } = 0.9f;

    /// <summary>Whether SGD uses Nesterov momentum (needs <see cref="Momentum"/> &gt; 0).</summary>
    public bool Nesterov { get; set; }

    /// <summary>Adam β₁ in [0, 1).</summary>
    public float AdamBeta1 { get; set; } = 0.9f;

    /// <summary>Adam β₂ in [0, 1).</summary>
    public float AdamBeta2 { get; set; } = 0.999f;

    /// <summary>Adam ε, positive.</summary>
    public float AdamEpsilon { get; set; } = 1e-8f;

    /// <summary>Weight decay λ, at least 0; applies to weights, not to biases or batch-norm parameters.</summary>
    public float WeightDecay { get; set; } = 5e-4f;

    /// <summary>How weight decay enters the update.</summary>
    public WeightDecayMode WeightDecayMode { get; set; } = WeightDecayMode.L2;

    /// <summary>Largest global L2 norm of the gradients, which are rescaled above it; 0 turns clipping off.</summary>
    public float MaxGradientNorm { get; set; }

    /// <summary>Learning-rate schedule after warm-up.</summary>
    public LearningRateScheduleKind Schedule { get; set; } = LearningRateScheduleKind.Cosine;

    /// <summary>Epochs of linear warm-up from near 0 to the base rate; fractions allowed, 0 for none.</summary>
    public double WarmupEpochs { get; set; }

    /// <summary>Factor γ of the step schedule, in (0, 1].</summary>
    public float StepGamma { get; set; } = 0.1f;

    /// <summary>Epochs between two steps of the step schedule, at least 1.</summary>
    public int StepEpochs { get; set; } = 10;

    /// <summary>Learning rate at the end of the cosine schedule, in [0, LearningRate].</summary>
    public float MinimumLearningRate { get; set; }

    /// <summary>K of class-balanced batches: rows per class in a batch, at least 2.</summary>
    public int SamplesPerClass { get; set; } = 4;

    /// <summary>Share of the rows held out for validation MAP@R, in [0, 0.5]; 0 skips validation.</summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>
    /// Epochs without a better validation MAP@R before training stops and the best head is returned;
    /// 0 turns early stopping off. Needs a validation fraction above 0. A NaN MAP@R (no validation row
    /// has a same-class neighbour) never counts as better, so such a run returns the last head.
    /// </summary>
    public int EarlyStoppingPatience { get; set; }

    /// <summary>Maximum threads for matrix products and validation; 0 uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int Threads { get; set; }

    /// <summary>Checks every setting and throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (HiddenLayers is null || HiddenLayers.Any(size => size < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HiddenLayers), HiddenLayers is null ? "null" : string.Join(", ", HiddenLayers), "HiddenLayers must be a list of sizes of at least 1 (empty for a linear head).");
        }

        Check(EmbeddingDimension >= 1, nameof(EmbeddingDimension), EmbeddingDimension, "at least 1");
        Check(Epochs >= 1, nameof(Epochs), Epochs, "at least 1");
        Check(BatchSize >= 2, nameof(BatchSize), BatchSize, "at least 2");
        Check(BatchNormMomentum >= 0f && BatchNormMomentum <= 1f, nameof(BatchNormMomentum), BatchNormMomentum, "in [0, 1]");
        Check(BatchNormEpsilon > 0f && float.IsFinite(BatchNormEpsilon), nameof(BatchNormEpsilon), BatchNormEpsilon, "positive and finite");
        Check(DropoutRate >= 0f && DropoutRate < 1f, nameof(DropoutRate), DropoutRate, "in [0, 1)");
        Check(Optimizer is OptimizerKind.Sgd or OptimizerKind.Adam, nameof(Optimizer), Optimizer, "Sgd or Adam");
        Check(LearningRate > 0f && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "positive and finite");
        Check(Momentum >= 0f && Momentum < 1f, nameof(Momentum), Momentum, "in [0, 1)");
        Check(!Nesterov || Momentum > 0f, nameof(Nesterov), Nesterov, "false when Momentum is 0");
        Check(AdamBeta1 >= 0f && AdamBeta1 < 1f, nameof(AdamBeta1), AdamBeta1, "in [0, 1)");
        Check(AdamBeta2 >= 0f && AdamBeta2 < 1f, nameof(AdamBeta2), AdamBeta2, "in [0, 1)");
        Check(AdamEpsilon > 0f && float.IsFinite(AdamEpsilon), nameof(AdamEpsilon), AdamEpsilon, "positive and finite");
        Check(WeightDecay >= 0f && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "at least 0 and finite");
        Check(WeightDecayMode is WeightDecayMode.L2 or WeightDecayMode.Decoupled, nameof(WeightDecayMode), WeightDecayMode, "L2 or Decoupled");
        Check(MaxGradientNorm >= 0f && float.IsFinite(MaxGradientNorm), nameof(MaxGradientNorm), MaxGradientNorm, "at least 0 (0 turns clipping off)");
        Check(Schedule is LearningRateScheduleKind.Constant or LearningRateScheduleKind.Step or LearningRateScheduleKind.Cosine, nameof(Schedule), Schedule, "Constant, Step or Cosine");
        Check(WarmupEpochs >= 0 && WarmupEpochs <= Epochs, nameof(WarmupEpochs), WarmupEpochs, $"in [0, Epochs = {Epochs}]");
        Check(StepGamma > 0f && StepGamma <= 1f, nameof(StepGamma), StepGamma, "in (0, 1]");
        Check(StepEpochs >= 1, nameof(StepEpochs), StepEpochs, "at least 1");
        Check(MinimumLearningRate >= 0f && MinimumLearningRate <= LearningRate, nameof(MinimumLearningRate), MinimumLearningRate, $"in [0, LearningRate = {LearningRate}]");
        Check(SamplesPerClass >= 2 && SamplesPerClass <= BatchSize, nameof(SamplesPerClass), SamplesPerClass, $"in [2, BatchSize = {BatchSize}]");
        Check(ValidationFraction >= 0 && ValidationFraction <= 0.5, nameof(ValidationFraction), ValidationFraction, "in [0, 0.5]");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "at least 0 (0 turns early stopping off)");
        Check(EarlyStoppingPatience == 0 || ValidationFraction > 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "0 when ValidationFraction is 0, because early stopping needs validation rows");
        Check(Threads >= 0, nameof(Threads), Threads, "at least 0 (0 uses every processor)");
    }

    /// <summary>Returns the thread count to use: <see cref="Threads"/>, or the processor count when it is 0.</summary>
    internal int EffectiveThreads => Threads == 0 ? Environment.ProcessorCount : Threads;

    private static void Check(bool valid, string name, object value, string range)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, $"MetricTrainerOptions.{name} must be {range}.");
        }
    }
}
