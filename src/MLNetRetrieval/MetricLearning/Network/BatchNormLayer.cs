namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>
/// Batch normalisation over the rows of a batch (Ioffe and Szegedy, "Batch Normalization: Accelerating
/// Deep Network Training by Reducing Internal Covariate Shift", ICML 2015), with the conventions of
/// PyTorch's nn.BatchNorm1d.
/// </summary>
/// <remarks>
/// Training mode: x̂ = (x − μ_B) / √(σ²_B + ε) with the batch mean and the biased batch variance, y = γ·x̂ + β,
/// and the running statistics move by running = (1 − momentum)·running + momentum·batch, where the running
/// variance takes the unbiased batch variance (n / (n − 1)·σ²_B). Inference mode uses the running statistics.
/// </remarks>
internal sealed class BatchNormLayer : Layer
{
    private readonly int _dimension;
    private readonly TrainableParameter[] _parameters;

    // Kept by the last training forward pass for the backward pass: x̂ (rows × dimension) and 1 / √(σ²_B + ε).
    private float[] _normalized = [];
    private readonly float[] _inverseStd;

    /// <summary>Creates a layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    public BatchNormLayer(int dimension, float momentum, float epsilon, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Batch-norm momentum must be in [0, 1].");
        }

        if (!(epsilon > 0f) || !float.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Batch-norm epsilon must be positive and finite.");
        }

        _dimension = dimension;
        Momentum = momentum;
        Epsilon = epsilon;
        Scale = new TrainableParameter(name + ".scale", dimension, 1, applyWeightDecay: false);
        Shift = new TrainableParameter(name + ".shift", dimension, 1, applyWeightDecay: false);
        Array.Fill(Scale.Values, 1f);
        RunningMean = new float[dimension];
        RunningVariance = new float[dimension];
        Array.Fill(RunningVariance, 1f);
        _inverseStd = new float[dimension];
        _parameters = [Scale, Shift];
    }

    /// <summary>γ, one per feature.</summary>
    public TrainableParameter Scale { get; }

    /// <summary>β, one per feature.</summary>
    public TrainableParameter Shift { get; }

    /// <summary>Running mean used in inference mode.</summary>
    public float[] RunningMean { get; }

    /// <summary>Running (unbiased) variance used in inference mode.</summary>
    public float[] RunningVariance { get; }

    /// <summary>Weight of the newest batch in the running statistics.</summary>
    public float Momentum { get; }

    /// <summary>ε added to the variance before the square root.</summary>
    public float Epsilon { get; }

    public override LayerKind Kind => LayerKind.BatchNorm;

    public override int InputDimension => _dimension;

    public override int OutputDimension => _dimension;

    public override IReadOnlyList<TrainableParameter> Parameters => _parameters;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows, bool training, int threads)
    {
        int d = _dimension;
        float[] gamma = Scale.Values;
        float[] beta = Shift.Values;
        if (!training)
        {
            // A local array, not _inverseStd, because inference may run on several threads at once.
            var inverse = new float[d];
            for (int j = 0; j < d; j++)
            {
                inverse[j] = 1f / MathF.Sqrt(RunningVariance[j] + Epsilon);
            }

            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < d; j++)
                {
                    output[(r * d) + j] = (gamma[j] * (input[(r * d) + j] - RunningMean[j]) * inverse[j]) + beta[j];
                }
            }

            return;
        }

        if (rows < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Batch normalisation in training mode needs at least 2 rows per batch; raise the batch size.");
        }

        if (_normalized.Length < rows * d)
        {
            _normalized = new float[rows * d];
        }

        // Batch statistics in double, so that large batches of similar values do not lose the variance.
        var mean = new double[d];
        var variance = new double[d];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                mean[j] += input[(r * d) + j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] /= rows;
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                double centred = input[(r * d) + j] - mean[j];
                variance[j] += centred * centred;
            }
        }

        for (int j = 0; j < d; j++)
        {
            double biased = variance[j] / rows;
            _inverseStd[j] = (float)(1.0 / Math.Sqrt(biased + Epsilon));
            RunningMean[j] = (float)(((1 - Momentum) * RunningMean[j]) + (Momentum * mean[j]));
            RunningVariance[j] = (float)(((1 - Momentum) * RunningVariance[j]) + (Momentum * variance[j] / (rows - 1)));
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                float normalized = (float)(input[(r * d) + j] - mean[j]) * _inverseStd[j];
                _normalized[(r * d) + j] = normalized;
                output[(r * d) + j] = (gamma[j] * normalized) + beta[j];
            }
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows, int threads)
    {
        // With g = dL/dy: dγ = Σ g·x̂, dβ = Σ g, and
        // dL/dx = γ / (n·√(σ²_B + ε)) · (n·g − Σ g − x̂·Σ g·x̂), sums over the rows of the batch.
        int d = _dimension;
        var sumGradient = new double[d];
        var sumGradientNormalized = new double[d];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                float g = outputGradient[(r * d) + j];
                sumGradient[j] += g;
                sumGradientNormalized[j] += g * _normalized[(r * d) + j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            Scale.Gradient[j] += (float)sumGradientNormalized[j];
            Shift.Gradient[j] += (float)sumGradient[j];
        }

        if (inputGradient.IsEmpty)
        {
            return;
        }

        float[] gamma = Scale.Values;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                double g = outputGradient[(r * d) + j];
                double value = (rows * g) - sumGradient[j] - (_normalized[(r * d) + j] * sumGradientNormalized[j]);
                inputGradient[(r * d) + j] = (float)(gamma[j] * _inverseStd[j] * value / rows);
            }
        }
    }

    public override Layer Clone()
    {
        var copy = new BatchNormLayer(_dimension, Momentum, Epsilon, Scale.Name[..^".scale".Length]);
        Scale.Values.CopyTo(copy.Scale.Values, 0);
        Shift.Values.CopyTo(copy.Shift.Values, 0);
        RunningMean.CopyTo(copy.RunningMean, 0);
        RunningVariance.CopyTo(copy.RunningVariance, 0);
        return copy;
    }
}
